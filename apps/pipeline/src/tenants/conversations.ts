/**
 * What a tenant's people do to one customer thread from outside it (dashboard, Discord inbox):
 * validated and checked for ownership here, carried out by the thread's conversation object.
 */
import {
  type ControlResult,
  ConversationControlSchema,
  type ConversationView,
  type HumanReplyResult,
  type RpcResult,
  conversationKey,
  describeIssues,
  errorBody,
  newId,
} from "@concierge/core";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";
import { conversationStub, ownedAccount } from "./ownership.ts";

const HumanReplySchema = v.object({
  tenantId: v.pipe(v.string(), v.minLength(1)),
  accountId: v.pipe(v.string(), v.minLength(1)),
  // Phone numbers and page-scoped ids, or an email address (up to 320 characters).
  customerId: v.pipe(v.string(), v.minLength(1), v.maxLength(320)),
  // WhatsApp's limit for a text body.
  text: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, "1 to 4096 characters"),
    v.maxLength(4096, "1 to 4096 characters"),
  ),
  actor: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  requestId: v.optional(v.pipe(v.string(), v.regex(/^[\w.:-]{1,100}$/))),
});
export type HumanReply = v.InferInput<typeof HumanReplySchema>;

/**
 * A person's reply to a customer, sent through the channel at once. WhatsApp accepts free-form
 * text only within 24 hours of the customer's last message; later it is refused with
 * `outside_window` (templates are a later feature). Instagram accepts it up to 7 days, tagged
 * `HUMAN_AGENT` after the first 24 hours, then refuses. `requestId` makes a repeated call (a
 * double click, a retried request) send once.
 */
export async function sendHumanReply(env: PipelineEnv, reply: HumanReply): Promise<HumanReplyResult> {
  const parsed = v.safeParse(HumanReplySchema, reply);
  if (!parsed.success) return errorBody("invalid_input", describeIssues(parsed.issues));
  const input = parsed.output;
  const account = await ownedAccount(env, input.tenantId, input.accountId);
  if (!account) return errorBody("not_found", "No such conversation.");
  if (account.status !== "active") {
    return errorBody("account_disabled", "This channel is switched off; switch it on to reply.");
  }
  const stub = conversationStub(env, conversationKey(input.tenantId, input.accountId, input.customerId));
  return stub.sendHumanReply({
    text: input.text,
    actor: input.actor,
    requestId: input.requestId ?? newId("hr"),
  });
}

/**
 * A person resolved a handed-off conversation (from the inbox or the dashboard): automatic
 * replies resume for that customer.
 */
export async function resolveHandoff(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  customerId: string,
): Promise<RpcResult<{ wasInHandoff: boolean }>> {
  const account = await ownedAccount(env, tenantId, accountId);
  if (!account || typeof customerId !== "string" || !customerId) {
    return errorBody("not_found", "No such conversation.");
  }
  const stub = conversationStub(env, conversationKey(tenantId, accountId, customerId));
  return { ok: true, ...(await stub.resolveHandoff()) };
}

const ThreadRefSchema = v.object({
  tenantId: v.pipe(v.string(), v.minLength(1)),
  accountId: v.pipe(v.string(), v.minLength(1)),
  customerId: v.pipe(v.string(), v.minLength(1), v.maxLength(320)),
});

/** Who acted on the thread (a dashboard user, a Discord member): recorded, never trusted for access. */
const ControlActorSchema = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(200));

/** The thread's object, once the account is known to be this tenant's (else null). */
async function ownedThread(env: PipelineEnv, tenantId: unknown, accountId: unknown, customerId: unknown) {
  const ref = v.safeParse(ThreadRefSchema, { tenantId, accountId, customerId });
  if (!ref.success) return null;
  const { output } = ref;
  const account = await ownedAccount(env, output.tenantId, output.accountId);
  if (!account) return null;
  return conversationStub(env, conversationKey(output.tenantId, output.accountId, output.customerId));
}

/**
 * The live inbox opens one conversation for the signed-in tenant: its recent messages, the
 * customer's messages still waiting, held drafts and the channel's window. Decrypted in the
 * conversation object and passed straight back; nothing of it is stored or logged here.
 */
export async function readConversation(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  customerId: string,
): Promise<RpcResult<{ view: ConversationView }>> {
  const stub = await ownedThread(env, tenantId, accountId, customerId);
  const view = stub ? await stub.inboxView() : null;
  return view ? { ok: true, view } : errorBody("not_found", "No such conversation.");
}

/**
 * Take over, hand back, or pause the bot for one customer, recorded with who did it (the
 * conversation object, and the inbox's metadata).
 */
export async function controlConversation(
  env: PipelineEnv,
  tenantId: string,
  accountId: string,
  customerId: string,
  control: unknown,
  actor: unknown,
): Promise<ControlResult> {
  const parsed = v.safeParse(ConversationControlSchema, control);
  if (!parsed.success) return errorBody("invalid_input", describeIssues(parsed.issues));
  const who = v.safeParse(ControlActorSchema, actor);
  if (!who.success) return errorBody("invalid_input", "Say who acted.");
  const stub = await ownedThread(env, tenantId, accountId, customerId);
  if (!stub) return errorBody("not_found", "No such conversation.");
  return stub.control(parsed.output, who.output);
}
