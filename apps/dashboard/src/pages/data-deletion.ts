import { createLogger, errorFields, errorResponse } from "@concierge/core";
import { parseSignedRequest } from "@concierge/crypto";
import { msg } from "@concierge/i18n";
import {
  type DataDeletionStatus,
  finishDataDeletion,
  getDataDeletion,
  insertDataDeletion,
  tenantsOfFacebookUser,
} from "@concierge/storage";
import { randomString } from "../auth/state.ts";
import { str } from "../forms.ts";
import { html } from "../html.ts";
import { type Ctx, notFound, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";

const log = createLogger("dashboard");

const STATUS_TEXT: Record<DataDeletionStatus, string> = {
  pending: msg("deletion-status-pending"),
  completed: msg("deletion-status-completed"),
  nothing_found: msg("deletion-status-nothing-found"),
  failed: msg("deletion-status-failed"),
};

async function deleteAll(env: Env, code: string, tenantIds: string[]): Promise<void> {
  try {
    for (const tenantId of tenantIds) {
      const res = await env.PIPELINE.deleteTenant(tenantId);
      // not_found: deleted in between (another request, the settings page): the goal holds.
      if (!res.ok && res.error.code !== "not_found") throw new Error(`deleteTenant: ${res.error.code}`);
    }
    await finishDataDeletion(env.DB, code, "completed");
    log.info("data_deletion.completed", { code, tenants: tenantIds.length });
  } catch (err) {
    await finishDataDeletion(env.DB, code, "failed");
    log.error("data_deletion.failed", { ...errorFields(err), code });
  }
}

/**
 * Meta's data deletion callback: verifies the `signed_request` with the app secret, deletes every
 * tenant the person signed in to (ARCHITECTURE.md §5), and answers the confirmation code and the
 * URL where the deletion's status can be read. The deletion itself runs after the answer, so Meta
 * is never kept waiting on a large tenant.
 */
export async function dataDeletionCallback(c: Ctx): Promise<Response> {
  const payload = await parseSignedRequest(c.env.META_APP_SECRET, str(c.form, "signed_request"));
  const userId = payload?.user_id;
  if (typeof userId !== "string" || !/^\d{1,32}$/.test(userId)) {
    log.warn("data_deletion.refused", { reason: payload ? "no_user_id" : "bad_signature" });
    return errorResponse(
      400,
      "invalid_signed_request",
      "The signed_request is missing, forged or malformed.",
    );
  }
  // Who signed in with Facebook, and who connected an Instagram account with it (the app-scoped
  // id Meta sends is the user's subject).
  const tenantIds = await tenantsOfFacebookUser(c.env.DB, userId);
  const code = randomString(12);
  await insertDataDeletion(c.env.DB, {
    code,
    status: tenantIds.length ? "pending" : "nothing_found",
    requestedAt: Date.now(),
  });
  if (tenantIds.length) c.exec.waitUntil(deleteAll(c.env, code, tenantIds));
  log.info("data_deletion.requested", { code, tenants: tenantIds.length });
  return Response.json({
    url: `${c.origin}/data-deletion/status?code=${encodeURIComponent(code)}`,
    confirmation_code: code,
  });
}

/** Where a person (or Meta's reviewers) reads how their deletion request went. */
export async function dataDeletionStatus(c: Ctx): Promise<Response> {
  const code = c.searchParams.get("code") ?? "";
  const row = /^[A-Za-z0-9_-]{8,40}$/.test(code) ? await getDataDeletion(c.env.DB, code) : null;
  if (!row) notFound();
  const { t } = c;
  const requested = new Intl.DateTimeFormat(c.locale, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "UTC",
  }).format(row.requestedAt);
  const body = html`<div class="signin card">
<h1>${t("deletion-title")}</h1>
<p id="deletion-status"><strong>${t(STATUS_TEXT[row.status])}</strong></p>
<dl><dt>${t("deletion-code")}</dt><dd><code>${code}</code></dd>
<dt>${t("deletion-requested")}</dt><dd>${requested} (UTC)</dd></dl>
<p class="muted">${t("deletion-what")}</p>
</div>`;
  return respond(c, publicPage(c, { title: t("deletion-title"), body }));
}
