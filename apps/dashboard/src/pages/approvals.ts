import { msg } from "@concierge/i18n";
import {
  type ApprovalRow,
  type ChannelAccount,
  getApproval,
  getChannelAccount,
  getReplyConfig,
} from "@concierge/storage";
import { str } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";

// Drafts held for a person's approval (the risk check, or a rule set to "always"). The draft's
// text lives only encrypted in its conversation's Durable Object: the page shows it to the person
// deciding and never stores or logs it. Deciding goes through the pipeline, whose D1 transition
// from `pending` makes a second click harmless.

type Decision = { action: "approve" } | { action: "edit"; text: string } | { action: "reject" };

/** The same limit the pipeline applies to an edited reply. */
const EDIT_MAX = 4096;

const REASONS: Record<string, string> = {
  approval_always: msg("approvals-reason-always"),
  too_short: msg("approvals-reason-too-short"),
  too_long: msg("approvals-reason-too-long"),
  money: msg("approvals-reason-money"),
  commitment: msg("approvals-reason-commitment"),
  off_topic: msg("approvals-reason-off-topic"),
};

const CHANNELS: Record<string, string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("channel-email"),
  discord: msg("channel-discord"),
};

/** After a decision, `?done=` names what happened; each has a notice (or an alert). */
const OUTCOMES: Record<string, { id: string; error: boolean }> = {
  sent: { id: msg("approvals-done-sent"), error: false },
  rejected: { id: msg("approvals-done-rejected"), error: false },
  already: { id: msg("approvals-done-already"), error: true },
  expired: { id: msg("approvals-done-expired"), error: true },
  retry: { id: msg("approvals-done-retry"), error: true },
  failed: { id: msg("approvals-done-failed"), error: true },
  window: { id: msg("approvals-done-outside-window"), error: true },
};

/** "5 minutes ago", "in 23 hours": the tenant's language, and no time zone to get wrong. */
function relative(locale: string, deltaMs: number): string {
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const abs = Math.abs(deltaMs);
  if (abs < 60_000) return rtf.format(Math.round(deltaMs / 1000), "second");
  if (abs < 3600_000) return rtf.format(Math.round(deltaMs / 60_000), "minute");
  if (abs < 86_400_000) return rtf.format(Math.round(deltaMs / 3600_000), "hour");
  return rtf.format(Math.round(deltaMs / 86_400_000), "day");
}

type Card = {
  approval: ApprovalRow;
  account: ChannelAccount | null;
  ruleLabel: string | null;
  /** The draft's text, for display only; null when it is no longer readable. */
  draft: string | null;
};

/** What a card shows again after a refused edit: the typed text and its problem. */
type EditProblem = { id: string; text: string; error: string };

async function loadCards(c: AuthedCtx): Promise<Card[]> {
  const tenantId = c.session.tenantId;
  const approvals = await c.env.PIPELINE.listApprovals(tenantId);
  const accounts = new Map<string, Promise<ChannelAccount | null>>();
  const configs = new Map<string, ReturnType<typeof getReplyConfig>>();
  const once = <T>(m: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
    let p = m.get(key);
    if (!p) {
      p = load();
      m.set(key, p);
    }
    return p;
  };
  return Promise.all(
    approvals.map(async (a): Promise<Card> => {
      const [account, stored, draft] = await Promise.all([
        once(accounts, a.accountId, () => getChannelAccount(c.env.DB, a.accountId)),
        once(configs, a.accountId, () => getReplyConfig(c.env.DB, a.accountId)),
        c.env.PIPELINE.readApprovalDraft(tenantId, a.id),
      ]);
      const config = stored?.config;
      const rule =
        a.ruleId && config
          ? (config.rules.find((r) => r.id === a.ruleId) ??
            (config.default_rule.id === a.ruleId ? config.default_rule : null))
          : null;
      return {
        approval: a,
        account: account && account.tenantId === tenantId ? account : null,
        // A default rule nobody named carries the schema's English "Default": name it in the locale.
        ruleLabel:
          rule && config && rule === config.default_rule && (!rule.label || rule.label === "Default")
            ? c.t("rules-default-title")
            : rule
              ? rule.label || rule.id
              : a.ruleId,
        draft: draft.ok ? draft.text : null,
      };
    }),
  );
}

/** The customer's id on the channel, from the conversation's key (tenant/account/customer). */
function customerOf(a: ApprovalRow): string {
  return a.threadKey.split("/").slice(2).join("/");
}

function card(c: AuthedCtx, item: Card, problem: EditProblem | null, now: number): Html {
  const { t } = c;
  const a = item.approval;
  const base = `approval-${a.id}`;
  const title = `${base}-title`;
  const channel = item.account ? t(CHANNELS[item.account.channel] ?? "channel-email") : "";
  const accountName = item.account ? (item.account.displayName ?? item.account.externalId) : a.accountId;
  const reasons = new Intl.ListFormat(c.locale, { type: "conjunction" }).format(
    // A code this version does not word (one written by a newer pipeline): general words, never the code.
    a.reasons.map((r) => t(REASONS[r] ?? "approvals-reason-other")),
  );
  const action = `/admin/approvals/${encodeURIComponent(a.id)}`;
  const editText = problem ? problem.text : (item.draft ?? "");
  const textId = `${base}-text`;
  return html`<article class="card approval" id="${base}" aria-labelledby="${title}">
  <h2 id="${title}">${item.account ? t("approvals-card-title", { channel, account: accountName }) : accountName}</h2>
  <dl class="approval-meta">
    <div><dt>${t("approvals-customer")}</dt><dd>${customerOf(a)}</dd></div>
    <div><dt>${t("approvals-conversation")}</dt><dd>${a.conversationId ?? t("approvals-none")}</dd></div>
    <div><dt>${t("approvals-rule")}</dt><dd>${item.ruleLabel ?? t("approvals-none")}</dd></div>
    <div><dt>${t("approvals-reasons")}</dt><dd>${reasons || t("approvals-none")}</dd></div>
    <div><dt>${t("approvals-received")}</dt><dd><time datetime="${new Date(a.createdAt).toISOString()}">${relative(
      c.locale,
      a.createdAt - now,
    )}</time></dd></div>
    <div><dt>${t("approvals-expires")}</dt><dd><time datetime="${new Date(a.expiresAt).toISOString()}">${relative(
      c.locale,
      a.expiresAt - now,
    )}</time></dd></div>
  </dl>
  <h3>${t("approvals-draft")}</h3>
  ${
    item.draft === null
      ? html`<p class="muted">${t("approvals-draft-unavailable")}</p>`
      : html`<blockquote class="approval-draft">${item.draft}</blockquote>`
  }
  <div class="row">
    <form class="inline" method="post" action="${action}">
      ${csrfField(c)}<input type="hidden" name="action" value="approve">
      <button type="submit" aria-describedby="${title}">${t("approvals-approve")}</button>
    </form>
    <form class="inline" method="post" action="${action}">
      ${csrfField(c)}<input type="hidden" name="action" value="reject">
      <button type="submit" class="danger" aria-describedby="${title}">${t("approvals-reject")}</button>
    </form>
  </div>
  <details class="approval-edit"${problem ? html` open` : null}>
    <summary>${t("approvals-edit")}</summary>
    <form class="stack" method="post" action="${action}" novalidate>
      ${csrfField(c)}<input type="hidden" name="action" value="edit">
      <div class="field">
        <label for="${textId}">${t("approvals-edit-label")}</label>
        <span class="hint" id="${textId}-hint">${t("approvals-edit-hint")}</span>
        <textarea id="${textId}" name="text" rows="5" maxlength="${EDIT_MAX}" aria-describedby="${textId}-hint${
          problem ? ` ${textId}-err` : ""
        }"${problem ? html` aria-invalid="true"` : null}>${editText}</textarea>
        ${problem ? html`<span class="err" id="${textId}-err">${t(problem.error)}</span>` : null}
      </div>
      <div><button type="submit">${t("approvals-send-edited")}</button></div>
    </form>
  </details>
</article>`;
}

async function render(
  c: AuthedCtx,
  opts: { problem?: EditProblem | null; notice?: string | null; error?: string | null },
  status = 200,
): Promise<Response> {
  const { t } = c;
  const cards = await loadCards(c);
  const now = Date.now();
  const body = html`
<p class="muted">${t("approvals-lead")}</p>
${
  cards.length === 0
    ? html`<p class="card muted" id="approvals-empty">${t("approvals-empty")}</p>`
    : cards.map((item) => card(c, item, opts.problem?.id === item.approval.id ? opts.problem : null, now))
}`;
  return respond(
    c,
    page(c, {
      title: t("approvals-title"),
      section: "approvals",
      notice: opts.notice ?? null,
      error: opts.error ?? null,
      body,
    }),
    status,
  );
}

/** GET /admin/approvals: every pending draft with its text and the three decisions. */
export async function approvalsPage(c: AuthedCtx): Promise<Response> {
  const outcome = OUTCOMES[c.searchParams.get("done") ?? ""];
  return render(c, {
    notice: outcome && !outcome.error ? c.t(outcome.id) : null,
    error: outcome?.error ? c.t(outcome.id) : null,
  });
}

/** Why a draft can no longer be decided: it expired, or somebody already decided it. */
function settledOutcome(a: ApprovalRow, now = Date.now()): "expired" | "already" {
  return a.status === "expired" || (a.status === "pending" && a.expiresAt <= now) ? "expired" : "already";
}

const done = (outcome: keyof typeof OUTCOMES) => redirect(`/admin/approvals?done=${outcome}`);

/** POST /admin/approvals/:id: approve, edit (send the person's text) or reject one draft. */
export async function decideApprovalForm(c: AuthedCtx): Promise<Response> {
  const tenantId = c.session.tenantId;
  const id = c.params.id ?? "";
  const approval = id ? await getApproval(c.env.DB, tenantId, id) : null;
  if (!approval) notFound();
  const action = str(c.form, "action");
  if (action !== "approve" && action !== "edit" && action !== "reject") {
    return render(c, { error: c.t("approvals-err-action") }, 422);
  }
  const text = str(c.form, "text");
  if (action === "edit" && (!text.trim() || text.length > EDIT_MAX)) {
    const error = text.trim() ? msg("approvals-err-text-long") : msg("approvals-err-text-empty");
    return render(c, { problem: { id, text, error }, error: c.t("approvals-err-edit") }, 422);
  }
  if (approval.status !== "pending" || approval.expiresAt <= Date.now())
    return done(settledOutcome(approval));
  const decision: Decision = action === "edit" ? { action, text } : { action };
  const result = await c.env.PIPELINE.decideApproval(
    tenantId,
    id,
    decision,
    c.session.userEmail ?? c.session.userId,
  );
  if (result.ok) return done(result.status);
  const now = await getApproval(c.env.DB, tenantId, id);
  switch (result.error.code) {
    case "not_found":
      return notFound();
    case "invalid_text":
      return render(
        c,
        { problem: { id, text, error: msg("approvals-err-text-empty") }, error: c.t("approvals-err-edit") },
        422,
      );
    case "send_retryable":
      // The channel is down for now: the draft is pending again, so the person may try again.
      return done("retry");
    case "send_failed":
      // Refused for good: the approval failed and its credit is back. A pipeline deployed before
      // send_retryable said send_failed for a channel down for now too, leaving the draft pending.
      return done(now?.status === "pending" ? "retry" : "failed");
    case "outside_window":
      // The channel's window closed while the draft waited: nothing went out, the credit is back.
      return done("window");
    default:
      return done(now ? settledOutcome(now) : "already");
  }
}
