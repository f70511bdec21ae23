import { describe, expect, it } from "vitest";
import { generateDiscordKeyPair, signDiscordRequest, verifyDiscordRequest } from "./ed25519.ts";
import { utf8 } from "./encoding.ts";

const body = utf8('{"type":1,"id":"1","application_id":"2","token":"t","version":1}');
const now = 1_800_000_000_000;
const ts = String(now / 1000);

describe("Discord request signatures (Ed25519)", () => {
  it("accepts Discord's signature over timestamp + raw body and refuses any changed byte", async () => {
    const k = await generateDiscordKeyPair();
    const signatureHex = await signDiscordRequest(k.privateKeyHex, ts, body);
    const check = { publicKeyHex: k.publicKeyHex, signatureHex, timestamp: ts, rawBody: body, now };
    expect(await verifyDiscordRequest(check)).toEqual({ ok: true });
    const changed = utf8('{"type":1,"id":"1","application_id":"2","token":"t","version":2}');
    expect(await verifyDiscordRequest({ ...check, rawBody: changed })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    // The timestamp is signed too: moving it inside the window still breaks the signature.
    expect(await verifyDiscordRequest({ ...check, timestamp: String(now / 1000 + 1) })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("refuses a signature made with another key", async () => {
    const ours = await generateDiscordKeyPair();
    const theirs = await generateDiscordKeyPair();
    const signatureHex = await signDiscordRequest(theirs.privateKeyHex, ts, body);
    expect(
      await verifyDiscordRequest({
        publicKeyHex: ours.publicKeyHex,
        signatureHex,
        timestamp: ts,
        rawBody: body,
        now,
      }),
    ).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses timestamps older or newer than the window, even with a valid signature", async () => {
    const k = await generateDiscordKeyPair();
    for (const skew of [-301, 301, -3600]) {
      const t = String(now / 1000 + skew);
      const signatureHex = await signDiscordRequest(k.privateKeyHex, t, body);
      expect(
        await verifyDiscordRequest({
          publicKeyHex: k.publicKeyHex,
          signatureHex,
          timestamp: t,
          rawBody: body,
          now,
        }),
      ).toEqual({ ok: false, reason: "stale_timestamp" });
    }
    const t = String(now / 1000 - 299);
    const signatureHex = await signDiscordRequest(k.privateKeyHex, t, body);
    expect(
      await verifyDiscordRequest({
        publicKeyHex: k.publicKeyHex,
        signatureHex,
        timestamp: t,
        rawBody: body,
        now,
      }),
    ).toEqual({ ok: true });
  });

  it("refuses malformed keys, signatures and timestamps without throwing", async () => {
    const k = await generateDiscordKeyPair();
    const good = await signDiscordRequest(k.privateKeyHex, ts, body);
    const base = { publicKeyHex: k.publicKeyHex, signatureHex: good, timestamp: ts, rawBody: body, now };
    const bad = [
      { signatureHex: null },
      { signatureHex: "" },
      { signatureHex: `${good}00` },
      { signatureHex: `zz${good.slice(2)}` },
      { timestamp: null },
      { timestamp: "" },
      { timestamp: "12.5" },
      { publicKeyHex: "" },
      { publicKeyHex: k.publicKeyHex.slice(2) },
      { publicKeyHex: `x${k.publicKeyHex.slice(1)}` },
    ];
    for (const b of bad) {
      expect(await verifyDiscordRequest({ ...base, ...b })).toEqual({ ok: false, reason: "malformed" });
    }
  });
});
