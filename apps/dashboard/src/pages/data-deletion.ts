import { createLogger, errorFields, errorResponse, instagramUnsubscribeEffect } from "@concierge/core";
import { parseSignedRequest, signedRequestIsFresh } from "@concierge/crypto";
import { msg } from "@concierge/i18n";
import {
  accountRowsLeft,
  type DataDeletionRow,
  dataDeletionEffects,
  facebookUserTargets,
  getDataDeletion,
  insertDataDeletion,
} from "@concierge/storage";
import { randomString } from "../auth/state.ts";
import { str } from "../forms.ts";
import { html } from "../html.ts";
import { type Ctx, notFound, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";

const log = createLogger("dashboard");

/**
 * Meta's data deletion callback: verifies the `signed_request` with the app secret and refuses
 * one issued more than a few minutes ago (a replay), records what belongs to the person by id
 * (the Instagram accounts they connected, their Facebook sign-in: never the business they belong
 * to, its other channels or its credits), and answers the confirmation code and the URL where the
 * deletion's status can be read. The deletion runs after the answer, so Meta is never kept
 * waiting; if it is cut off, the pipeline's 15-minute cron resumes it from the recorded targets.
 */

/** Rows counted per account for the public status page; past it the page says "at least". */
const ROWS_LEFT_CAP = 1_000;
export async function dataDeletionCallback(c: Ctx): Promise<Response> {
  const payload = await parseSignedRequest(c.env.META_APP_SECRET, str(c.form, "signed_request"));
  const userId = payload?.user_id;
  if (!payload || typeof userId !== "string" || !/^\d{1,32}$/.test(userId)) {
    log.warn("data_deletion.refused", { reason: payload ? "no_user_id" : "bad_signature" });
    return errorResponse(
      400,
      "invalid_signed_request",
      "The signed_request is missing, forged or malformed.",
    );
  }
  if (!signedRequestIsFresh(payload)) {
    log.warn("data_deletion.refused", { reason: "stale" });
    return errorResponse(
      400,
      "stale_signed_request",
      "The signed_request was not issued in the last few minutes (issued_at); send a new one.",
    );
  }
  // The app-scoped id Meta sends is the person's subject: their Facebook sign-in, and the
  // Instagram accounts they connected with it.
  const targets = await facebookUserTargets(c.env.DB, userId);
  const found = targets.accounts.length + targets.users.length > 0;
  const code = randomString(12);
  await insertDataDeletion(c.env.DB, {
    code,
    status: found ? "pending" : "nothing_found",
    requestedAt: Date.now(),
    targets,
  });
  if (found) {
    c.exec.waitUntil(
      c.env.PIPELINE.runDataDeletion(code).then(
        (r) => {
          if (!r.ok) log.warn("data_deletion.deferred", { code, error: r.error.code });
        },
        (err: unknown) => log.warn("data_deletion.deferred", { ...errorFields(err), code }),
      ),
    );
  }
  log.info("data_deletion.requested", {
    code,
    accounts: targets.accounts.length,
    users: targets.users.length,
  });
  return Response.json({
    url: `${c.origin}/data-deletion/status?code=${encodeURIComponent(code)}`,
    confirmation_code: code,
  });
}

/** The status line: a pending request that a run has started on reads "in progress". */
function statusText(row: DataDeletionRow) {
  switch (row.status) {
    case "pending":
      return row.startedAt === null ? msg("deletion-status-pending") : msg("deletion-status-in-progress");
    case "completed":
      return msg("deletion-status-completed");
    case "nothing_found":
      return msg("deletion-status-nothing-found");
    case "failed":
      return msg("deletion-status-failed");
  }
}

/** Where a person (or Meta's reviewers) reads how their deletion request went. */
export async function dataDeletionStatus(c: Ctx): Promise<Response> {
  const code = c.searchParams.get("code") ?? "";
  const row = /^[A-Za-z0-9_-]{8,40}$/.test(code) ? await getDataDeletion(c.env.DB, code) : null;
  if (!row) notFound();
  const { t } = c;
  const accounts = row.targets?.accounts ?? [];
  const [effects, left] = await Promise.all([
    dataDeletionEffects(
      c.env.DB,
      accounts.map((a) => instagramUnsubscribeEffect(a.pageId, a.accountId)),
    ),
    // What is left of a request still running, so "in progress" says how much (never "done"
    // while rows remain); each count capped low, read through the account's index: the page is
    // public, and "at least 1,000" says enough.
    row.status === "pending" ? accountRowsLeft(c.env.DB, accounts, ROWS_LEFT_CAP) : 0,
  ]);
  const pending = effects.filter((e) => e.status === "pending").length;
  const failed = effects.filter((e) => e.status === "failed").length;
  const when = (at: number) =>
    new Intl.DateTimeFormat(c.locale, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(
      at,
    );
  const body = html`<div class="signin card">
<h1>${t("deletion-title")}</h1>
<p id="deletion-status"><strong>${t(statusText(row))}</strong></p>
${left ? html`<p id="deletion-rows-left">${left >= ROWS_LEFT_CAP ? t("deletion-rows-left-many", { count: ROWS_LEFT_CAP }) : t("deletion-rows-left", { count: left })}</p>` : ""}
${pending ? html`<p id="deletion-provider-pending">${t("deletion-provider-pending", { count: pending })}</p>` : ""}
${failed ? html`<p id="deletion-provider-failed">${t("deletion-provider-failed", { count: failed })}</p>` : ""}
<dl><dt>${t("deletion-code")}</dt><dd><code>${code}</code></dd>
<dt>${t("deletion-requested")}</dt><dd>${when(row.requestedAt)} (UTC)</dd>
${row.startedAt === null ? "" : html`<dt>${t("deletion-started")}</dt><dd>${when(row.startedAt)} (UTC)</dd>`}</dl>
<p class="muted">${t("deletion-what")}</p>
</div>`;
  return respond(c, publicPage(c, { title: t("deletion-title"), body }));
}
