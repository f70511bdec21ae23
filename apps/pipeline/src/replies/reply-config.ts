import {
  AppError,
  FormVersionSchema,
  type RpcResult,
  type RuleTest,
  createLogger,
  errorBody,
  errorFields,
} from "@concierge/core";
import { createAiProvider } from "@concierge/ai";
import { buildEnvelope, renderPersona } from "@concierge/prompt";
import { type ReplyConfig, parseReplyConfig } from "@concierge/rules";
import {
  type RuleEmbeddings,
  getPersona,
  getReplyConfig,
  saveReplyConfig as storeReplyConfig,
} from "@concierge/storage";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { ownedAccount } from "../tenants/ownership.ts";
import * as v from "valibot";
import { embedRules, matchTurn } from "./reply-rules.ts";

const log = createLogger("pipeline");

/**
 * Saves a channel account's reply config for the dashboard: validates it (clear errors, nothing
 * saved on bad input), embeds the `prompt` matchers once, and stores both.
 */
export async function saveReplyConfig(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  input: unknown,
  expectedVersion?: unknown,
): Promise<RpcResult<{ config: ReplyConfig }>> {
  const parsed = parseReplyConfig(input);
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    return errorBody("invalid_reply_config", first.path ? `${first.path}: ${first.message}` : first.message);
  }
  const version = v.safeParse(FormVersionSchema, expectedVersion);
  if (!version.success) return errorBody("invalid_version", "A form version is a whole number.");
  const account = await ownedAccount(env, tenantId, accountId);
  if (!account) return errorBody("not_found", "No such channel account.");
  let embeddings: RuleEmbeddings;
  try {
    const previous = await getReplyConfig(env.DB, accountId);
    embeddings = await embedRules(createAiProvider(env), parsed.value, previous?.embeddings ?? null);
  } catch (err) {
    log.warn("rules.embed_on_save_failed", { ...errorFields(err), account_id: accountId });
    return errorBody(
      "embedding_unavailable",
      "Intent rules could not be prepared right now; nothing was saved. Try again.",
    );
  }
  let config: ReplyConfig;
  try {
    // The version is checked inside the save statement: of two saves from the same page, one lands.
    config = await storeReplyConfig(env.DB, tenantId, accountId, parsed.value, embeddings, version.output);
  } catch (err) {
    if (err instanceof AppError && (err.code === "stale" || err.code === "not_found"))
      return errorBody(err.code, err.message);
    throw err;
  }
  configCache(env).replyConfigs.delete(accountId);
  configCache(env).ingestTargets.delete(`${account.channel}:${account.externalId}`);
  return { ok: true, config };
}

/**
 * The dashboard's test panel: which rule a message would match (with the similarity for intent
 * rules) and what would be sent, the canned text or the exact AI envelope. Sends nothing and
 * spends nothing.
 */
export async function testReplyRules(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  text: string,
): Promise<RpcResult<RuleTest>> {
  if (typeof text !== "string" || !text.trim() || text.length > 4096) {
    return errorBody("invalid_text", "Type a message of 1 to 4096 characters.");
  }
  if (!(await ownedAccount(env, tenantId, accountId)))
    return errorBody("not_found", "No such channel account.");
  const stored = await getReplyConfig(env.DB, accountId);
  if (!stored) return errorBody("no_rules", "This account has no reply rules yet.");
  const match = await matchTurn(createAiProvider(env), stored, text);
  const base = {
    ruleId: match.rule.id,
    label: match.rule.label,
    via: match.via,
    score: match.via === "embedding" ? match.score : null,
    closest:
      match.via === "default" && match.closest
        ? {
            ruleId: match.closest.rule.id,
            label: match.closest.rule.label,
            score: match.closest.score,
            threshold: match.closest.threshold,
          }
        : null,
  };
  const response = match.rule.response;
  if (response.kind !== "prompt")
    return { ok: true, ...base, reply: { kind: response.kind, text: response.text } };
  const persona = await getPersona(env.DB, tenantId);
  const envelope = buildEnvelope({
    persona: persona ? renderPersona(persona.persona) : "",
    rulePrompt: response.text,
  });
  return {
    ok: true,
    ...base,
    reply: { kind: "prompt", envelope: envelope.system, personaStatus: persona?.status ?? null },
  };
}
