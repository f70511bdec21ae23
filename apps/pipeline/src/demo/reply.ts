/**
 * The public live demo (PRODUCT.md §5): a visitor writes as a customer of a sample business and
 * gets what a tenant's customer would get, through the same code: the rules matched by the turn's
 * matchTurn, the AI reply by the turn's askModel (envelope, injection scan, handoff sentinel),
 * the handoff then answered in the holding voice, as a tenant's conversation is.
 *
 * What it does not do is everything that belongs to a tenant: no tenant, credit, message
 * metadata, approval, notification, channel or conversation object is touched, and nothing is
 * written but the quota's counts. The chat itself travels in the sealed transcript.
 */
import { createAiProvider } from "@concierge/ai";
import {
  type DemoEnvelope,
  type DemoOptions,
  type DemoReply,
  type DemoReplyResult,
  type DemoTurnInput,
  type RpcResult,
  createLogger,
  errorBody,
  errorFields,
} from "@concierge/core";
import type { Persona } from "@concierge/prompt";
import { getActiveArchetype, getDemoSettings, listActiveArchetypes } from "@concierge/storage";
import { type AiPlan, type ModelRequest, askModel } from "../conversation/ai-turn.ts";
import type { PipelineEnv } from "../env.ts";
import { matchTurn } from "../replies/reply-rules.ts";
import { SAMPLE_BUSINESSES } from "./businesses.ts";
import { takeDemoQuota } from "./quota.ts";
import { type Transcript, historyOf, newTranscript, openTranscript, sealTranscript } from "./transcript.ts";

const log = createLogger("pipeline.demo");

/** What the page needs to draw the demo: the business, the personas on offer, the limits. */
export async function demoOptions(env: PipelineEnv): Promise<RpcResult<{ options: DemoOptions }>> {
  const [settings, archetypes] = await Promise.all([getDemoSettings(env.DB), listActiveArchetypes(env.DB)]);
  return {
    ok: true,
    options: {
      business: settings.business,
      businessName: SAMPLE_BUSINESSES[settings.business].name,
      archetypes: archetypes.map(({ id, name, description }) => ({ id, name, description })),
      limits: { maxChars: settings.maxChars, maxTurns: settings.maxTurns },
    },
  };
}

/**
 * One customer turn. The checks that cost nothing come first (length, turns, persona), then the
 * quota, so a refused message is never counted and a message over quota never reaches a model.
 */
export async function demoReply(env: PipelineEnv, input: DemoTurnInput): Promise<DemoReplyResult> {
  const settings = await getDemoSettings(env.DB);
  // UTF-16 units, as the page's maxlength counts them, so the two agree on what fits.
  if (input.text.length > settings.maxChars)
    return errorBody("too_long", `A demo message is at most ${settings.maxChars} characters.`);

  const now = Date.now();
  let chat = newTranscript(input.archetypeId, settings.business, now);
  if (input.transcript !== null) {
    const opened = await openTranscript(env, input.transcript, now);
    if (!opened.transcript) log.info("demo.transcript_restarted", { reason: opened.reason });
    else if (
      opened.transcript.archetypeId !== input.archetypeId ||
      opened.transcript.business !== settings.business
    )
      log.info("demo.transcript_restarted", { reason: "other_chat" });
    else chat = opened.transcript;
  }
  if (chat.count >= settings.maxTurns)
    return errorBody(
      "turns_used",
      `The demo chat has used its ${settings.maxTurns} messages. Sign up to keep going.`,
    );

  // Approved and active only: a persona rejected, pending or retired since the page loaded is refused.
  const archetype = await getActiveArchetype(env.DB, input.archetypeId);
  if (!archetype)
    return errorBody("archetype_unavailable", "That persona is not available. Choose another one.");

  const quota = await takeDemoQuota(env, input.visitor, settings);
  if (!quota.ok) {
    log.info("demo.rate_limited", { scope: quota.scope });
    const refused = errorBody(
      "rate_limited",
      quota.scope === "visitor"
        ? "You have sent as many demo messages as an hour allows. Please try again later."
        : "The demo has reached its limit for today. Please try again tomorrow.",
    );
    return { ok: false, error: { ...refused.error, retryAfterSeconds: quota.retryAfterSeconds } };
  }

  const business = SAMPLE_BUSINESSES[settings.business];
  const fields = { business: settings.business, archetype_id: archetype.id, turn: chat.count + 1 };
  // During a handoff no rule talks over the person: the holding voice answers, as for tenants
  // (a demo chat lives an hour, within a tenant's default cooldown, so it never turns silent).
  let plan: AiPlan = { rulePrompt: null, holding: true, approval: "auto" };
  if (!chat.handoff) {
    const match = await matchTurn(createAiProvider(env), business.replies, input.text);
    const { response } = match.rule;
    if (response.kind !== "prompt") {
      log.info("demo.replied", { ...fields, via: "rule", rule_id: match.rule.id });
      return answer(env, chat, settings.maxTurns, input.text, {
        reply: response.text,
        via: "rule",
        handoff: response.kind === "handoff",
        envelope: null,
      });
    }
    plan = { rulePrompt: response.text, holding: false, approval: match.rule.approval };
    log.info("demo.rule_matched", { ...fields, rule_id: match.rule.id, match: match.via });
  }

  // The persona is the archetype's approved prompt as a tenant copies it, followed by the sample
  // business's facts (our own text), so the model knows what it may say.
  const persona: Persona = {
    kind: "archetype",
    archetypeId: archetype.id,
    prompt: `${archetype.prompt}\n\n${business.facts}`,
  };
  const history = historyOf(chat);
  let asked: Awaited<ReturnType<typeof askModel>>;
  try {
    asked = await askModel(env, persona, plan, history, input.text);
  } catch (err) {
    log.warn("demo.ai_failed", errorFields(err));
    return errorBody("ai_unavailable", "The AI could not answer just now. Please try again in a minute.");
  }
  if (asked.kind === "failed") {
    log.warn("demo.ai_failed", errorFields(asked.error));
    return errorBody("ai_unavailable", "The AI could not answer just now. Please try again in a minute.");
  }
  const envelope = envelopeOf(asked.sent);
  if (asked.kind !== "reply") {
    // Flagged by the injection scan, or nothing left after the sentinel: a customer would get
    // no reply, so neither does the visitor; the envelope still shows what the model was sent.
    log.info("demo.no_reply", { ...fields, outcome: asked.kind });
    return answer(env, chat, settings.maxTurns, input.text, {
      reply: "",
      via: "none",
      handoff: false,
      envelope,
    });
  }
  // A draft a tenant's risk check would hold for approval is shown as it is: there is nobody to
  // approve it here, and the visitor came to see what the model writes.
  const via = asked.handoff ? "handoff" : "ai";
  log.info("demo.replied", { ...fields, via, holding: plan.holding });
  return answer(env, chat, settings.maxTurns, input.text, {
    reply: asked.text,
    via,
    handoff: asked.handoff,
    envelope,
  });
}

/** The model's request as the contract shows it; copies, so the answer owns its arrays. */
function envelopeOf(sent: ModelRequest): DemoEnvelope {
  return {
    system: sent.system,
    middle: [sent.editable[0], sent.editable[1]],
    messages: sent.messages.map((m) => ({ role: m.role, content: m.content })),
  };
}

/** Remembers the turn in the transcript (as a tenant's conversation does) and seals it. */
async function answer(
  env: PipelineEnv,
  chat: Transcript,
  maxTurns: number,
  customer: string,
  turn: Omit<DemoReply, "transcript" | "turnsLeft">,
): Promise<RpcResult<{ turn: DemoReply }>> {
  const next: Transcript = {
    ...chat,
    count: chat.count + 1,
    handoff: chat.handoff || turn.handoff,
    history: [...chat.history, { customer, reply: turn.reply }],
  };
  return {
    ok: true,
    turn: {
      ...turn,
      transcript: await sealTranscript(env, next),
      turnsLeft: Math.max(0, maxTurns - next.count),
    },
  };
}
