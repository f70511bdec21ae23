import { type ConversationView, maskCustomer, newId } from "@concierge/core";
import { sha256Hex } from "@concierge/crypto";
import { msg } from "@concierge/i18n";
import {
  findInboxConversation,
  INBOX_STATES,
  type InboxRow,
  type InboxState,
  listInbox,
} from "@concierge/storage";
import * as v from "valibot";
import { str } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";

// The live inbox (issue 19 items 1 and 2). The list is metadata from D1 (storage/inbox.ts); one
// conversation's text is opened on request by its conversation object for the signed-in tenant and
// goes straight into the page: never stored, cached (signed-in pages are no-store) or logged. Links
// name a conversation by an opaque message ref, never by the customer's number.

const HOUR_MS = 3_600_000;
/** Open conversations: a customer message within the last 24 hours (WhatsApp's reply window). */
const OPEN_MS = 24 * HOUR_MS;
const PAGE_SIZE = 25;
/** Deeper than anyone pages by hand: the OFFSET stays bounded. */
const MAX_PAGE = 40;
/**
 * How often app.js asks for the list and an open conversation again (not while the tab is hidden;
 * swapped only when something changed). The list reads the tenant's last day of metadata each time.
 */
const LIST_POLL_MS = 10_000;
const CONVERSATION_POLL_MS = 5000;

const CHANNELS = ["whatsapp", "instagram", "email"] as const;
type InboxChannel = (typeof CHANNELS)[number];

const CHANNEL_LABELS: Record<InboxChannel, string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("channel-email"),
};

const STATE_LABELS: Record<InboxState, string> = {
  bot: msg("inbox-state-bot"),
  approval: msg("inbox-state-approval"),
  handed_off: msg("inbox-state-handed-off"),
  taken_over: msg("inbox-state-taken-over"),
  paused: msg("inbox-state-paused"),
};

/** What the turn did with the newest message, where the inbox should say so. */
const ACTION_NOTES: Record<string, string> = {
  injection_flagged: msg("inbox-note-flagged"),
  relay_no_inbox: msg("inbox-note-no-inbox"),
  outside_window: msg("inbox-note-outside-window"),
  unsupported: msg("inbox-note-unsupported"),
};

/** The pipeline's refusals of a person's reply, in the tenant's language. */
const REPLY_ERRORS: Record<string, string> = {
  outside_window: msg("inbox-error-outside-window"),
  send_retryable: msg("inbox-error-retry"),
  send_failed: msg("inbox-error-failed"),
  tenant_suspended: msg("inbox-error-suspended"),
  account_disabled: msg("inbox-error-disabled"),
  not_found: msg("inbox-error-gone"),
};

const DONE: Record<string, string> = {
  sent: msg("inbox-done-sent"),
  take_over: msg("inbox-done-take-over"),
  hand_back: msg("inbox-done-hand-back"),
  pause: msg("inbox-done-pause"),
};

/** Pause lengths offered, in minutes. */
const PAUSES = [15, 60, 240, 1440] as const;

function relative(locale: string, deltaMs: number): string {
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const abs = Math.abs(deltaMs);
  if (abs < 60_000) return rtf.format(Math.round(deltaMs / 1000), "second");
  if (abs < HOUR_MS) return rtf.format(Math.round(deltaMs / 60_000), "minute");
  if (abs < 24 * HOUR_MS) return rtf.format(Math.round(deltaMs / HOUR_MS), "hour");
  return rtf.format(Math.round(deltaMs / (24 * HOUR_MS)), "day");
}

function time(c: AuthedCtx, at: number, now: number): Html {
  return html`<time datetime="${new Date(at).toISOString()}">${relative(c.locale, at - now)}</time>`;
}

/** Who did it, as the page says it: the bot's own handoffs by name, people by their address. */
function actorLabel(c: AuthedCtx, actor: string | null): string | null {
  if (actor === null) return null;
  if (actor === "ai") return c.t("inbox-by-ai");
  if (actor === "rule") return c.t("inbox-by-rule");
  // The Discord inbox records a member by their Discord id, which would mean nothing here.
  if (actor.startsWith("discord:")) return c.t("inbox-by-discord");
  return actor;
}

const FilterSchema = v.object({
  channel: v.optional(v.picklist(CHANNELS)),
  state: v.optional(v.picklist(INBOX_STATES)),
  page: v.optional(v.pipe(v.string(), v.regex(/^\d{1,4}$/), v.transform(Number), v.minValue(1)), "1"),
});
type Filter = { channel: InboxChannel | null; state: InboxState | null; page: number };

/** The query's filters, each on its own: an unknown value is ignored (a hand-typed link), not refused. */
function filterOf(c: AuthedCtx): Filter {
  const one = <K extends keyof typeof FilterSchema.entries>(k: K) => {
    const r = v.safeParse(FilterSchema.entries[k], c.searchParams.get(k) || undefined);
    return r.success ? r.output : undefined;
  };
  return {
    channel: one("channel") ?? null,
    state: one("state") ?? null,
    page: Math.min(one("page") ?? 1, MAX_PAGE),
  };
}

function query(f: Filter, page = f.page): string {
  const q = new URLSearchParams();
  if (f.channel) q.set("channel", f.channel);
  if (f.state) q.set("state", f.state);
  if (page > 1) q.set("page", String(page));
  const s = q.toString();
  return s ? `?${s}` : "";
}

function filters(c: AuthedCtx, f: Filter): Html {
  const { t } = c;
  const option = (value: string, label: string, current: string | null) =>
    html`<option value="${value}"${current === value ? html` selected` : null}>${label}</option>`;
  return html`<form class="card row inbox-filters" method="get" action="/admin/inbox">
  <div class="field"><label for="inbox-channel">${t("inbox-filter-channel")}</label>
    <select id="inbox-channel" name="channel">${option("", t("inbox-filter-all"), f.channel ?? "")}${CHANNELS.map(
      (ch) => option(ch, t(CHANNEL_LABELS[ch]), f.channel),
    )}</select></div>
  <div class="field"><label for="inbox-state">${t("inbox-filter-state")}</label>
    <select id="inbox-state" name="state">${option("", t("inbox-filter-all"), f.state ?? "")}${INBOX_STATES.map(
      (s) => option(s, t(STATE_LABELS[s]), f.state),
    )}</select></div>
  <div><button type="submit" class="secondary">${t("inbox-filter-apply")}</button></div>
</form>`;
}

/** The list region: app.js refreshes it every few seconds (data-poll); without it, a link does. */
function listRegion(c: AuthedCtx, f: Filter, rows: InboxRow[], more: boolean, now: number): Html {
  const { t } = c;
  // A landmark of its own, not a <nav>: the site's menu opens over the page, pager included.
  const pager = html`<div class="row pager" role="navigation" aria-label="${t("inbox-pages")}">
  ${f.page > 1 ? html`<a href="/admin/inbox${query(f, f.page - 1)}" rel="prev">${t("inbox-newer")}</a>` : null}
  ${more ? html`<a href="/admin/inbox${query(f, f.page + 1)}" rel="next">${t("inbox-older")}</a>` : null}
  <a href="/admin/inbox${query(f)}">${t("inbox-refresh")}</a>
</div>`;
  return html`<section id="inbox-list" data-poll="/admin/inbox${query(f)}" data-poll-ms="${LIST_POLL_MS}" data-poll-retry>
${
  rows.length === 0
    ? html`<p class="card muted" id="inbox-empty">${t(f.channel || f.state ? "inbox-empty-filtered" : "inbox-empty")}</p>`
    : html`<div class="table-wrap card"><table>
<thead><tr><th scope="col">${t("inbox-col-customer")}</th><th scope="col">${t("inbox-col-channel")}</th><th scope="col">${t(
        "inbox-col-state",
      )}</th><th scope="col">${t("inbox-col-last")}</th></tr></thead>
<tbody>${rows.map(
        (r) => html`<tr data-ref="${r.ref}">
  <td><a href="/admin/inbox/${r.ref}">${maskCustomer(r.customerId)}</a>${
    ACTION_NOTES[r.lastAction ?? ""]
      ? html`<br><span class="badge warn">${t(ACTION_NOTES[r.lastAction ?? ""]!)}</span>`
      : null
  }</td>
  <td>${t(CHANNEL_LABELS[r.channel])}<br><span class="muted">${r.accountName}</span></td>
  <td><span class="badge state-${r.state}">${t(STATE_LABELS[r.state])}</span></td>
  <td>${time(c, r.lastAt, now)}<br><span class="muted">${t("inbox-count", { count: r.messages })}</span></td>
</tr>`,
      )}</tbody></table></div>`
}
${pager}
</section>`;
}

/** GET /admin/inbox: open conversations, newest first; app.js asks for the list region alone. */
export async function inboxPage(c: AuthedCtx): Promise<Response> {
  const f = filterOf(c);
  const now = Date.now();
  const { rows, more } = await listInbox(c.env.DB, c.session.tenantId, {
    now,
    since: now - OPEN_MS,
    channel: f.channel,
    state: f.state,
    limit: PAGE_SIZE,
    offset: (f.page - 1) * PAGE_SIZE,
  });
  const region = listRegion(c, f, rows, more, now);
  if (c.partial) return fragment(c, region);
  return respond(
    c,
    page(c, {
      title: c.t("inbox-title"),
      section: "inbox",
      body: html`<p class="muted">${c.t("inbox-lead")}</p>${filters(c, f)}${region}`,
    }),
  );
}

/** A fragment for app.js, marked so caches and the browser never mix it up with the page. */
async function fragment(c: AuthedCtx, body: Html, status = 200): Promise<Response> {
  const res = await respond(c, body, status);
  res.headers.set("vary", "x-partial");
  return res;
}

/** The conversation the link names, this tenant's only: another's ref is the same 404. */
async function conversationOf(c: AuthedCtx): Promise<InboxRow> {
  const row = await findInboxConversation(c.env.DB, c.session.tenantId, c.params.ref ?? "", Date.now());
  if (!row) notFound();
  return row;
}

function stateLine(c: AuthedCtx, view: ConversationView, now: number): Html {
  const { t } = c;
  const by = actorLabel(c, view.by);
  const label =
    view.state === "paused" && view.pausedUntil
      ? t("inbox-paused-until", { when: relative(c.locale, view.pausedUntil - now) })
      : t(STATE_LABELS[view.state]);
  return html`<p class="inbox-state"><span class="badge state-${view.state}">${label}</span>${
    by && view.state !== "bot" ? html` <span class="muted">${t("inbox-by", { who: by })}</span>` : null
  }</p>`;
}

function controls(c: AuthedCtx, row: InboxRow, view: ConversationView): Html {
  const { t } = c;
  const action = `/admin/inbox/${row.ref}/control`;
  const button = (value: string, label: string, cls = "") =>
    html`<form class="inline" method="post" action="${action}">${csrfField(c)}<input type="hidden" name="action" value="${value}"><button type="submit"${
      cls ? html` class="${cls}"` : null
    }>${label}</button></form>`;
  return html`<div class="card stack" id="inbox-controls">
  <h2>${t("inbox-controls")}</h2>
  <div class="row">
    ${view.state === "taken_over" ? null : button("take_over", t("inbox-take-over"))}
    ${view.state === "bot" ? null : button("hand_back", t("inbox-hand-back"), "secondary")}
  </div>
  <form class="row" method="post" action="${action}">
    ${csrfField(c)}<input type="hidden" name="action" value="pause">
    <div class="field"><label for="pause-minutes">${t("inbox-pause-for")}</label>
      <select id="pause-minutes" name="minutes">${PAUSES.map(
        (m) =>
          html`<option value="${m}"${m === 60 ? html` selected` : null}>${t("inbox-pause-minutes", { minutes: m })}</option>`,
      )}</select></div>
    <div><button type="submit" class="secondary">${t("inbox-pause")}</button></div>
  </form>
  <p class="hint">${t("inbox-controls-hint")}</p>
</div>`;
}

function messages(c: AuthedCtx, row: InboxRow, view: ConversationView): Html {
  const { t } = c;
  const who = (from: "customer" | "business") =>
    from === "customer" ? maskCustomer(row.customerId) : t("inbox-from-business");
  const now = Date.now();
  return html`<section class="card stack" id="inbox-messages" aria-live="polite" data-poll="/admin/inbox/${row.ref}" data-poll-ms="${CONVERSATION_POLL_MS}" data-poll-retry>
  <h2>${t("inbox-messages")}</h2>
  ${
    view.forPerson.length > 0
      ? html`<h3>${t("inbox-for-person")}</h3><ol class="inbox-thread">${view.forPerson.map(
          (m) =>
            html`<li class="msg from-customer"><span class="who">${who("customer")} · ${time(c, m.at, now)}</span><p>${m.text}</p></li>`,
        )}</ol>`
      : null
  }
  ${
    view.messages.length === 0 && view.waiting.length === 0 && view.forPerson.length === 0
      ? html`<p class="muted">${t("inbox-no-messages")}</p>`
      : html`<ol class="inbox-thread">${view.messages.map(
          (m) =>
            html`<li class="msg from-${m.from}"><span class="who">${who(m.from)}</span><p>${m.text}</p></li>`,
        )}${view.waiting.map(
          (m) =>
            html`<li class="msg from-customer waiting"><span class="who">${who("customer")} · ${time(c, m.at, now)}</span><p>${m.text}</p></li>`,
        )}</ol>`
  }
  ${
    view.drafts.length > 0
      ? html`<h3>${t("inbox-drafts")}</h3>${view.drafts.map(
          (d) => html`<blockquote class="approval-draft">${d.text}</blockquote>`,
        )}<p><a href="/admin/approvals#approval-${view.drafts[0]!.approvalId}">${t("inbox-decide-draft")}</a></p>`
      : null
  }
  ${stateLine(c, view, now)}
</section>`;
}

function replyBox(
  c: AuthedCtx,
  row: InboxRow,
  view: ConversationView,
  typed = "",
  error: string | null = null,
): Html {
  const { t } = c;
  if (!view.window.open) {
    return html`<p class="card notice error" id="inbox-reply-closed" role="status">${t(
      "inbox-window-closed",
      {
        channel: t(CHANNEL_LABELS[row.channel]),
      },
    )}</p>`;
  }
  const closes = view.window.closesAt;
  return html`<form class="card stack" id="inbox-reply" method="post" action="/admin/inbox/${row.ref}/reply" autocomplete="off" novalidate>
  ${csrfField(c)}
  <input type="hidden" name="requestId" value="${newId("hr")}">
  <div class="field">
    <label for="inbox-reply-text">${t("inbox-reply-label")}</label>
    <span class="hint" id="inbox-reply-hint">${
      closes === null
        ? t("inbox-reply-hint-email")
        : t(view.window.humanAgent ? "inbox-reply-hint-human-agent" : "inbox-reply-hint", {
            when: relative(c.locale, closes - Date.now()),
          })
    }</span>
    <textarea id="inbox-reply-text" name="text" rows="4" maxlength="4096" required aria-describedby="inbox-reply-hint${
      error ? " inbox-reply-err" : ""
    }"${error ? html` aria-invalid="true"` : null}>${typed}</textarea>
    ${error ? html`<span class="err" id="inbox-reply-err">${error}</span>` : null}
  </div>
  <div><button type="submit">${t("inbox-send")}</button></div>
</form>`;
}

async function renderConversation(
  c: AuthedCtx,
  row: InboxRow,
  opts: { typed?: string; error?: string | null; notice?: string | null } = {},
  status = 200,
): Promise<Response> {
  const { t } = c;
  const read = await c.env.PIPELINE.readConversation(c.session.tenantId, row.accountId, row.customerId);
  if (!read.ok) notFound();
  const { view } = read;
  if (c.partial) return fragment(c, messages(c, row, view));
  const title = t("inbox-conversation-title", {
    customer: maskCustomer(row.customerId),
    channel: t(CHANNEL_LABELS[row.channel]),
  });
  return respond(
    c,
    page(c, {
      title,
      section: "inbox",
      notice: opts.notice ?? null,
      error: opts.error ?? null,
      body: html`<p><a href="/admin/inbox">${t("inbox-back")}</a> · <span class="muted">${row.accountName}</span></p>
${
  ACTION_NOTES[row.lastAction ?? ""]
    ? html`<p class="notice" id="inbox-note">${t(ACTION_NOTES[row.lastAction ?? ""]!)}</p>`
    : null
}
${messages(c, row, view)}
${replyBox(c, row, view, opts.typed ?? "", opts.error ?? null)}
${controls(c, row, view)}`,
    }),
    status,
  );
}

/** GET /admin/inbox/:ref: one conversation, opened for this tenant. */
export async function conversationPage(c: AuthedCtx): Promise<Response> {
  const row = await conversationOf(c);
  const done = c.searchParams.get("done");
  return renderConversation(c, row, { notice: done && DONE[done] ? c.t(DONE[done]) : null });
}

const ReplySchema = v.object({
  text: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, msg("inbox-error-empty")),
    v.maxLength(4096, msg("inbox-error-long")),
  ),
  requestId: v.pipe(v.string(), v.regex(/^[\w.-]{1,64}$/, msg("inbox-error-gone"))),
});

/**
 * POST /admin/inbox/:ref/reply: a person's reply on the customer's channel, once per requestId (a
 * double click or a resent form sends once). A refusal shows the page again with the typed text.
 */
export async function sendInboxReply(c: AuthedCtx): Promise<Response> {
  const row = await conversationOf(c);
  const typed = str(c.form, "text");
  const parsed = v.safeParse(ReplySchema, { text: typed, requestId: str(c.form, "requestId") });
  if (!parsed.success)
    return renderConversation(c, row, { typed, error: c.t(parsed.issues[0].message) }, 422);
  // The form's id with the text's hash: the same reply submitted twice sends once, and a page the
  // browser restored with an old id still sends a new text.
  const textHash = (await sha256Hex(parsed.output.text)).slice(0, 16);
  const result = await c.env.PIPELINE.sendHumanReply(
    c.session.tenantId,
    row.accountId,
    row.customerId,
    parsed.output.text,
    c.session.userEmail ?? c.session.userId,
    { requestId: `${parsed.output.requestId}:${textHash}` },
  );
  if (result.ok) return redirect(`/admin/inbox/${row.ref}?done=sent`);
  const id = REPLY_ERRORS[result.error.code] ?? msg("inbox-error-failed");
  const status = result.error.code === "send_retryable" ? 503 : 422;
  return renderConversation(
    c,
    row,
    { typed, error: c.t(id, { channel: c.t(CHANNEL_LABELS[row.channel]) }) },
    status,
  );
}

const ControlFormSchema = v.variant("action", [
  v.object({ action: v.literal("take_over") }),
  v.object({ action: v.literal("hand_back") }),
  v.object({
    action: v.literal("pause"),
    minutes: v.pipe(v.string(), v.transform(Number), v.picklist(PAUSES)),
  }),
]);

/** POST /admin/inbox/:ref/control: take over, hand back, or pause the bot for this customer. */
export async function controlInbox(c: AuthedCtx): Promise<Response> {
  const row = await conversationOf(c);
  const parsed = v.safeParse(ControlFormSchema, {
    action: str(c.form, "action"),
    ...(c.form.has("minutes") ? { minutes: str(c.form, "minutes") } : {}),
  });
  if (!parsed.success) return renderConversation(c, row, { error: c.t("inbox-error-control") }, 422);
  const result = await c.env.PIPELINE.controlConversation(
    c.session.tenantId,
    row.accountId,
    row.customerId,
    parsed.output,
    c.session.userEmail ?? c.session.userId,
  );
  if (!result.ok) {
    if (result.error.code === "not_found") notFound();
    return renderConversation(c, row, { error: c.t("inbox-error-control") }, 422);
  }
  return redirect(`/admin/inbox/${row.ref}?done=${parsed.output.action}`);
}
