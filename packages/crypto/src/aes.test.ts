import { describe, expect, it } from "vitest";
import {
  ciphertextVersion,
  decryptString,
  derivePurposeKey,
  encryptString,
  importMasterKey,
  newWrappedDataKey,
  unwrapDataKey,
} from "./aes.ts";
import { toBase64 } from "./encoding.ts";

const masterB64 = toBase64(crypto.getRandomValues(new Uint8Array(32)));

describe("tenant data keys", () => {
  it("round-trips text through a wrapped tenant key and never shows the plaintext", async () => {
    const master = await importMasterKey(masterB64);
    const wrapped = await newWrappedDataKey(master, "t_1");
    const key = await unwrapDataKey(master, wrapped, "t_1");
    const sealed = await encryptString(key, 1, "héllo canary-123 مرحبا", "conv:a");
    expect(sealed).not.toContain("canary");
    expect(ciphertextVersion(sealed)).toBe(1);
    expect(await decryptString(key, sealed, "conv:a")).toBe("héllo canary-123 مرحبا");
  });

  it("refuses to decrypt under another context, another tenant or after tampering", async () => {
    const master = await importMasterKey(masterB64);
    const wrapped = await newWrappedDataKey(master, "t_1");
    await expect(unwrapDataKey(master, wrapped, "t_2")).rejects.toThrow();
    const key = await unwrapDataKey(master, wrapped, "t_1");
    const sealed = await encryptString(key, 1, "secret", "conv:a");
    await expect(decryptString(key, sealed, "conv:b")).rejects.toThrow();
    const [v, iv, ct] = sealed.split(".");
    const flipped = `${v}.${iv}.${ct!.startsWith("A") ? `B${ct!.slice(1)}` : `A${ct!.slice(1)}`}`;
    await expect(decryptString(key, flipped, "conv:a")).rejects.toThrow();
  });

  it("gives a clear error for a missing or malformed master key", async () => {
    await expect(importMasterKey(undefined)).rejects.toThrow("ENCRYPTION_KEY is not set");
    await expect(importMasterKey("c2hvcnQ=")).rejects.toThrow("32 bytes");
  });
});

describe("purpose keys", () => {
  it("derive the same key for the same purpose, and one that opens nothing of another purpose or the master's", async () => {
    const a = await derivePurposeKey(masterB64, "demo-transcript");
    const again = await derivePurposeKey(masterB64, "demo-transcript");
    const other = await derivePurposeKey(masterB64, "something-else");
    const master = await importMasterKey(masterB64);
    const sealed = await encryptString(a, 1, "canary-purpose", "demo");
    expect(await decryptString(again, sealed, "demo")).toBe("canary-purpose");
    await expect(decryptString(other, sealed, "demo")).rejects.toThrow();
    await expect(decryptString(master, sealed, "demo")).rejects.toThrow();
    await expect(derivePurposeKey(undefined, "demo-transcript")).rejects.toThrow("ENCRYPTION_KEY is not set");
  });
});
