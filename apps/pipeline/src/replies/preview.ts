import { createAiProvider } from "@concierge/ai";
import { derivePurposeHmacKey, toBase64Url, utf8 } from "@concierge/crypto";
import { type AiPreview, createLogger, errorBody, errorFields, type RpcResult } from "@concierge/core";
import {
  creditBalance,
  creditDebit,
  debitCredit,
  getPersona,
  getReplyConfig,
  restoreCredit,
} from "@concierge/storage";
import * as v from "valibot";
import { type ModelAnswer, askModel, warnOnLowBalance } from "../conversation/ai-turn.ts";
import type { PipelineEnv } from "../env.ts";
import { matchTurn } from "./reply-rules.ts";
import { ownedAccount } from "../tenants/ownership.ts";

const log = createLogger("pipeline.preview");

/**
 * The dashboard makes one id per test-panel run; a retry of the same click reuses it (with the
 * same text: the id is bound to its text, see previewReference).
 */
const PreviewIdSchema = v.pipe(v.string(), v.regex(/^[\w-]{8,100}$/));

/**
 * A retry of a preview (same id) regenerates without a second debit, for this long after the
 * debit; later, the id is spent, so one credit never buys an unbounded number of generations.
 */
const PREVIEW_RETRY_MS = 10 * 60_000;

const PREVIEW_TEXT_PURPOSE = "preview-text";

// Derived once per isolate (as the demo quota's key is), again only if the secret changes.
let textKey: { secret: string; key: Promise<CryptoKey> } | null = null;

/**
 * The debit reference of one preview: its id AND a keyed MAC of the account and the text, so that
 * an id is worth one generation on one text. The same id and text (a retried click) find their
 * debit and cost nothing more; another text under the same id is another reference, another
 * credit. The MAC is HMAC-SHA256 under a key derived from ENCRYPTION_KEY for this purpose only,
 * cut to 128 bits: without the key nobody can test a guessed text against the ledger, which an
 * unkeyed hash would allow (and the text itself never reaches D1).
 */
export async function previewReference(
  env: PipelineEnv,
  accountId: string,
  text: string,
  previewId: string,
): Promise<string> {
  if (textKey?.secret !== env.ENCRYPTION_KEY)
    textKey = {
      secret: env.ENCRYPTION_KEY,
      key: derivePurposeHmacKey(env.ENCRYPTION_KEY, PREVIEW_TEXT_PURPOSE),
    };
  // JSON keeps the two fields apart: no account id and text run together into another pair.
  const mac = await crypto.subtle.sign("HMAC", await textKey.key, utf8(JSON.stringify([accountId, text])));
  return `preview:${previewId}:${toBase64Url(new Uint8Array(mac).slice(0, 16))}`;
}

/**
 * The rules test panel's opt-in AI preview: the matched `prompt` rule's reply, generated exactly as
 * a turn would (persona gate, envelope, injection scan, handoff, approval decision), for one credit.
 * Nothing is sent and no conversation is touched; the text only travels back to the caller.
 */
export async function previewAiReply(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  text: string,
  previewId: string,
): Promise<RpcResult<AiPreview>> {
  if (typeof text !== "string" || !text.trim() || text.length > 4096) {
    return errorBody("invalid_text", "Type a message of 1 to 4096 characters.");
  }
  if (!v.is(PreviewIdSchema, previewId)) {
    return errorBody("invalid_preview_id", "A preview id is 8 to 100 letters, digits, '-' or '_'.");
  }
  if (!(await ownedAccount(env, tenantId, accountId)))
    return errorBody("not_found", "No such channel account.");
  const stored = await getReplyConfig(env.DB, accountId);
  if (!stored) return errorBody("no_rules", "This account has no reply rules yet.");
  const match = await matchTurn(createAiProvider(env), stored, text);
  const { rule } = match;
  if (rule.response.kind !== "prompt") {
    return errorBody(
      "not_ai",
      "This message matches a rule with its own text (a canned reply or a hand-off), which needs no AI preview.",
    );
  }
  const persona = await getPersona(env.DB, tenantId);
  if (persona?.status !== "approved") {
    return errorBody(
      "persona_not_approved",
      "AI replies are paused until your persona passes its safety check.",
    );
  }
  const fields = { tenant_id: tenantId, account_id: accountId };
  const ref = await previewReference(env, accountId, text, previewId);
  const prior = await creditDebit(env.DB, tenantId, ref);
  if (prior && (prior.restored || Date.now() - prior.at > PREVIEW_RETRY_MS)) {
    return errorBody("preview_id_used", "This preview has already run. Start a new one.");
  }
  // Idempotent by reference: a retry with the same id finds its debit and takes nothing more.
  if (!(await debitCredit(env.DB, tenantId, ref)).ok) {
    return errorBody("no_credits", "No credits left for an AI preview. Buy credits to try it.");
  }
  // Only the call that took the credit gives it back; a retry never refunds an earlier success.
  const giveBack = () => (prior ? Promise.resolve() : restoreCredit(env.DB, tenantId, ref).then(() => {}));
  let answer: ModelAnswer;
  try {
    answer = await askModel(
      env,
      persona.persona,
      { rulePrompt: rule.response.text, holding: false, approval: rule.approval },
      [],
      text,
    );
  } catch (err) {
    answer = { kind: "failed", error: err };
  }
  if (answer.kind !== "reply") {
    await giveBack();
    if (answer.kind === "failed") {
      log.warn("preview.ai_failed", { ...fields, ...errorFields(answer.error) });
      return errorBody("ai_unavailable", "The AI could not answer just now; no credit was used. Try again.");
    }
    log.info("preview.no_reply", { ...fields, outcome: answer.kind });
    return answer.kind === "flagged"
      ? errorBody(
          "injection_flagged",
          "This message looks like an attempt to change the AI's instructions; customers sending it get no AI reply. No credit was used.",
        )
      : errorBody("ai_empty", "The AI had nothing to say to this message; no credit was used.");
  }
  if (!prior) await warnOnLowBalance(env, tenantId);
  log.info("preview.generated", { ...fields, rule_id: rule.id, retry: prior !== null });
  return {
    ok: true,
    ruleId: rule.id,
    label: rule.label,
    via: match.via,
    score: match.via === "embedding" ? match.score : null,
    reply: answer.text,
    handoff: answer.handoff,
    hold: answer.hold,
    balance: await creditBalance(env.DB, tenantId),
  };
}
