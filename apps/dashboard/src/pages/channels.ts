import {
  type ChannelTokenState,
  type ConnectedAccount,
  getConnectedAccount,
  listChannelTokenStates,
  listAccountActivity,
  listConnectedAccounts,
} from "@concierge/storage";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";
import { runSelfTest } from "../whatsapp-self-test.ts";
import { formatDateTime } from "./insights.ts";
import { channelLabel } from "./rules-views.ts";

const NOTICES: Record<string, string> = {
  connected: "ch-connected",
  again: "ch-already-connected",
  deleted: "ch-deleted",
  tested: "ch-tested",
  "ig-connected": "ig-connected",
  "ig-again": "ig-already-connected",
};

const DEAD_REASONS = new Set(["expired", "revoked", "permissions", "invalid"]);

/** Each Instagram account's page token, as the table shows it (never the token itself). */
export async function tokenStates(db: D1Database, tenantId: string): Promise<Map<string, ChannelTokenState>> {
  return new Map((await listChannelTokenStates(db, tenantId)).map((r) => [r.accountId, r]));
}

/** An Instagram account's token state (also on the wizard's channels step). */
export function tokenCell(c: AuthedCtx, token: ChannelTokenState | undefined): Html {
  const { t } = c;
  if (!token) return html`<span class="badge warn">${t("ig-token-missing")}</span>`;
  if (token.status === "dead") {
    const reason = DEAD_REASONS.has(token.deadReason ?? "") ? token.deadReason : "invalid";
    return html`<span class="badge danger">${t("ig-token-dead")}</span>
<br><span class="selftest-reason">${t(`ig-token-reason-${reason}`)}</span>`;
  }
  if (token.expiresAt != null) {
    return html`<span class="badge ok">✓ ${t("ig-token-ok")}</span>
<br><span class="muted">${t("ig-token-expires", { time: formatDateTime(c.locale, token.expiresAt) })}</span>`;
  }
  return html`<span class="badge ok">✓ ${t("ig-token-ok")}</span>`;
}

/** A WhatsApp number's self-test result (also on the wizard's channels step). */
export function selfTestCell(c: AuthedCtx, a: ConnectedAccount): Html {
  const { t } = c;
  if (a.channel !== "whatsapp") return html`<span class="muted">–</span>`;
  if (a.selfTestOkAt != null) {
    return html`<span class="badge ok">✓ ${t("ch-selftest-ok")}</span>
<br><span class="muted">${t("ch-selftest-ok-at", { time: formatDateTime(c.locale, a.selfTestOkAt) })}</span>`;
  }
  if (a.selfTestError) {
    return html`<span class="badge danger">${t("ch-selftest-failed")}</span>
<br><span class="selftest-reason">${t(`ch-selftest-reason-${a.selfTestError}`)}</span>`;
  }
  if (a.selfTestAt != null) return html`<span class="badge warn">${t("ch-selftest-pending")}</span>`;
  return html`<span class="badge">${t("ch-selftest-none")}</span>`;
}

/** When the account last received a customer message: a webhook that stopped shows here first. */
function lastMessageCell(c: AuthedCtx, at: number | null | undefined): Html {
  return at
    ? html`<time datetime="${new Date(at).toISOString()}">${formatDateTime(c.locale, at)}</time>`
    : html`<span class="muted">${c.t("ch-last-none")}</span>`;
}

function accountRow(
  c: AuthedCtx,
  a: ConnectedAccount,
  token: ChannelTokenState | undefined,
  lastInboundAt: number | null | undefined,
): Html {
  const { t } = c;
  const name = a.displayName ?? a.externalId;
  const base = `/admin/channels/${encodeURIComponent(a.id)}`;
  return html`<tr id="account-${a.id}">
  <td class="account"><strong>${name}</strong><br><span class="muted">${channelLabel(c, a.channel)} · <code>${a.externalId}</code></span></td>
  <td>${lastMessageCell(c, lastInboundAt)}</td>
  <td>${a.channel === "instagram" ? tokenCell(c, token) : selfTestCell(c, a)}</td>
  <td><div class="actions">
    ${
      a.channel === "whatsapp"
        ? html`<form class="inline" method="post" action="${base}/self-test">${csrfField(c)}<button class="secondary" type="submit">${t("ch-selftest-rerun")}</button></form>`
        : null
    }
    ${
      a.channel === "instagram" && (!token || token.status === "dead")
        ? html`<a class="button secondary" href="/admin/instagram/connect">${t("ig-reconnect")}</a>`
        : null
    }
    ${
      // An email address is deleted on its own page, which says its name is held for 30 days.
      a.channel === "email"
        ? html`<a class="button secondary" href="/admin/email#subdomain-${a.id}">${t("ch-manage-email")}</a>`
        : html`<details class="confirm">
      <summary>${t("ch-delete")}</summary>
      <form method="post" action="${base}/delete">
        ${csrfField(c)}
        <p>${t("ch-delete-confirm", { name })}</p>
        ${a.channel === "whatsapp" ? html`<p class="muted">${t("ch-delete-whatsapp")}</p>` : null}
        <div><button class="danger" type="submit">${t("ch-delete-submit")}</button></div>
      </form>
    </details>`
    }
  </div></td>
</tr>`;
}

/** GET /admin/channels: every connected account with its self-test state, and ways to connect. */
export async function channelsPage(c: AuthedCtx): Promise<Response> {
  const { t } = c;
  const [accounts, tokens, activity] = await Promise.all([
    listConnectedAccounts(c.env.DB, c.session.tenantId),
    tokenStates(c.env.DB, c.session.tenantId),
    listAccountActivity(c.env.DB, c.session.tenantId),
  ]);
  const lastIn = new Map(activity.map((a) => [a.id, a.lastInboundAt]));
  const noticeId = NOTICES[c.searchParams.get("done") ?? ""];
  const table =
    accounts.length === 0
      ? html`<p class="card muted">${t("ch-empty")}</p>`
      : html`<div class="table-wrap card" id="channel-accounts">
<table>
<caption class="sr-only">${t("ch-caption")}</caption>
<thead><tr><th scope="col">${t("ch-col-account")}</th><th scope="col">${t("ch-col-last")}</th><th scope="col">${t("ch-col-test")}</th><th scope="col">${t("ch-col-actions")}</th></tr></thead>
<tbody>
${accounts.map((a) => accountRow(c, a, tokens.get(a.id), lastIn.get(a.id)))}
</tbody>
</table>
</div>`;
  return respond(
    c,
    page(c, {
      title: t("ch-title"),
      section: "channels",
      notice: noticeId ? t(noticeId) : null,
      body: html`<p class="muted">${t("ch-lead")}</p>
<p class="row"><a class="button" href="/admin/whatsapp/connect">${t("ch-connect-whatsapp")}</a>
<a class="button secondary" href="/admin/whatsapp/manual">${t("ch-connect-manual")}</a>
<a class="button secondary" href="/admin/instagram/connect">${t("ig-connect-button")}</a></p>
${table}`,
    }),
  );
}

/** POST /admin/channels/:accountId/self-test: runs the round trip again and shows the result. */
export async function rerunSelfTest(c: AuthedCtx): Promise<Response> {
  const account = await getConnectedAccount(c.env.DB, c.session.tenantId, c.params.accountId ?? "");
  if (account?.channel !== "whatsapp") notFound();
  await runSelfTest(c.env, c.session.tenantId, account.id);
  return redirect(`/admin/channels?done=tested#account-${account.id}`);
}

/** POST /admin/channels/:accountId/delete: through the pipeline, so ingest forgets it at once. */
export async function deleteChannel(c: AuthedCtx): Promise<Response> {
  const result = await c.env.PIPELINE.disconnectAccount(c.session.tenantId, c.params.accountId ?? "");
  if (!result.ok) notFound();
  return redirect("/admin/channels?done=deleted");
}
