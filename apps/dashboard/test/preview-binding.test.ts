// Issue 17, item 2, through the dashboard's POST: a rule-test AI preview id is bound to its text.
// The same id with other texts costs a credit each (it used to cost one for any number of texts
// within 10 minutes); the same id and text again (a double submit) costs nothing more.
import { env } from "cloudflare:workers";
import { personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  creditBalance,
  grantCredits,
  recordPersonaVerdict,
  savePersona,
  saveReplyConfig,
} from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { post, signIn } from "./helpers.ts";

async function readyTenant(credits: number) {
  const s = await signIn({ trial: false });
  const persona = { kind: "raw", prompt: "Friendly and brief, for a small tea shop." } as const;
  const hash = await personaHash(persona);
  await savePersona(env.DB, s.tenantId, persona, hash);
  await recordPersonaVerdict(env.DB, s.tenantId, hash, "approved", null);
  await grantCredits(env.DB, {
    tenantId: s.tenantId,
    amount: credits,
    source: "grant",
    reference: `test-${crypto.randomUUID()}`,
  });
  const account = await createChannelAccount(env.DB, {
    tenantId: s.tenantId,
    channel: "whatsapp",
    externalId: `1557${String(Date.now() % 1e8).padStart(8, "0")}`,
    displayName: "+1 557 0100",
  });
  await saveReplyConfig(env.DB, s.tenantId, account.id, {
    rules: [
      {
        id: "ask",
        label: "Questions",
        matcher: { kind: "static_text", keywords: ["question"] },
        response: { kind: "prompt", text: "Answer from the menu only." },
      },
    ],
    default_rule: { response: { kind: "canned", text: "Thanks!" } },
  });
  return { s, path: `/admin/rules/whatsapp/${account.id}` };
}

describe("the rules test panel's AI preview", () => {
  it("costs a credit for every text sent under one preview id; the same text again costs nothing", async () => {
    const { s, path } = await readyTenant(10);
    const test = await (await post(s, `${path}/test`, { text: "A question about chai" })).text();
    const previewId = /name="previewId" value="([^"]+)"/.exec(test)![1]!;
    const texts = ["A question about chai", "A question about coffee", "A question about cake", "A question"];
    for (const [i, text] of texts.entries()) {
      const res = await post(s, `${path}/preview`, { text, previewId });
      expect(res.status).toBe(200);
      expect(await res.text(), text).toContain(`Credits left: ${10 - (i + 1)}`);
    }
    expect(await creditBalance(env.DB, s.tenantId)).toBe(6);
    // A double submit of one of them: generated again, no credit.
    const again = await post(s, `${path}/preview`, { text: texts[1]!, previewId });
    expect(await again.text()).toContain("Credits left: 6");
    expect(await creditBalance(env.DB, s.tenantId)).toBe(6);
  });
});
