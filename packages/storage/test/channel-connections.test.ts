import { describe, expect, it } from "vitest";
import { getReplyConfig, saveReplyConfig } from "../src/accounts.ts";
import {
  deleteChannelAccount,
  getConnectedAccount,
  listConnectedAccounts,
  recordSelfTestArrival,
  recordSelfTestFailure,
  setChannelAccountDisplayName,
  startSelfTest,
} from "../src/channel-connections.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";

describe("connected accounts", () => {
  it("lists only the tenant's accounts, oldest first", async () => {
    const t = await newTenant();
    const first = await newAccount(t.id, "whatsapp");
    const second = await newAccount(t.id, "instagram");
    await newAccount((await newTenant()).id);
    expect((await listConnectedAccounts(db(), t.id)).map((a) => a.id)).toEqual([first.id, second.id]);
  });

  it("renames only the tenant's own account", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const acc = await newAccount(t.id, "instagram");
    expect(await setChannelAccountDisplayName(db(), other.id, acc.id, "@stolen")).toBe(false);
    expect((await getConnectedAccount(db(), t.id, acc.id))?.displayName).toBe("instagram test");
    expect(await setChannelAccountDisplayName(db(), t.id, acc.id, "@cafe")).toBe(true);
    expect((await getConnectedAccount(db(), t.id, acc.id))?.displayName).toBe("@cafe");
  });

  it("deletes only the tenant's own account, and its reply config with it", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const acc = await newAccount(t.id);
    await saveReplyConfig(db(), t.id, acc.id, { default_rule: { response: { kind: "canned", text: "hi" } } });
    expect(await deleteChannelAccount(db(), other.id, acc.id)).toBeNull();
    expect(await deleteChannelAccount(db(), t.id, acc.id)).toEqual({
      channel: "whatsapp",
      externalId: acc.externalId,
    });
    expect(await getConnectedAccount(db(), t.id, acc.id)).toBeNull();
    expect(await getReplyConfig(db(), acc.id)).toBeNull();
  });
});

describe("self-test", () => {
  it("only the current attempt's token turns it green, and a later failure report does not undo an arrival", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    expect(await startSelfTest(db(), t.id, acc.id, "old", 1)).toBe(true);
    expect(await startSelfTest(db(), t.id, acc.id, "new", 2)).toBe(true);
    // A replayed webhook from the earlier attempt changes nothing.
    expect(await recordSelfTestArrival(db(), acc.id, "old", 3)).toBe(false);
    await recordSelfTestFailure(db(), acc.id, "old", "timeout");
    expect(await getConnectedAccount(db(), t.id, acc.id)).toMatchObject({
      selfTestAt: 2,
      selfTestOkAt: null,
      selfTestError: null,
    });
    expect(await recordSelfTestArrival(db(), acc.id, "new", 4)).toBe(true);
    await recordSelfTestFailure(db(), acc.id, "new", "timeout");
    expect(await getConnectedAccount(db(), t.id, acc.id)).toMatchObject({
      selfTestOkAt: 4,
      selfTestError: null,
    });
  });

  it("a failure is kept for the current attempt, and a new attempt clears earlier results", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    await startSelfTest(db(), t.id, acc.id, "tok", 1);
    await recordSelfTestFailure(db(), acc.id, "tok", "signature_refused");
    expect((await getConnectedAccount(db(), t.id, acc.id))?.selfTestError).toBe("signature_refused");
    await startSelfTest(db(), t.id, acc.id, "tok2", 5);
    expect(await getConnectedAccount(db(), t.id, acc.id)).toMatchObject({
      selfTestAt: 5,
      selfTestOkAt: null,
      selfTestError: null,
    });
    expect(await startSelfTest(db(), (await newTenant()).id, acc.id, "x", 6)).toBe(false);
  });
});
