import { createLogger } from "@concierge/core";
import { timingSafeEqualString } from "@concierge/crypto";
import { msg } from "@concierge/i18n";
import * as v from "valibot";
import { randomString } from "../auth/state.ts";
import { clearCookie, setCookie } from "../cookies.ts";
import { str } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";
import { fromWizard, WIZARD_NOTIFICATIONS_STEP } from "../wizard-return.ts";

/**
 * The Discord bot's install: Discord's authorize page with `state` bound to this browser (a
 * `__Host-` cookie) and this tenant (KV, single use, ten minutes); the code goes to the pipeline,
 * which exchanges it and takes the guild from Discord's answer. Then the inbox channel, the staff
 * role and the relay options; and removing the bot.
 */

const log = createLogger("dashboard");

const DISCORD_COOKIE = "__Host-concierge_dcinstall";
const TTL_SECONDS = 600;
const stateKey = (state: string) => `dcinstall:${state}`;
// `wizard`: the install was started from the onboarding wizard, which it then returns to.
const StateSchema = v.object({ tenantId: v.string(), wizard: v.optional(v.boolean()) });

/**
 * What the bot needs and no more: View Channel (1 << 10), Send Messages (1 << 11), Embed Links
 * (1 << 14), Read Message History (1 << 16: reading an item back to edit it).
 */
export const DISCORD_PERMISSIONS = String((1 << 10) | (1 << 11) | (1 << 14) | (1 << 16));
export const DISCORD_SCOPES = "bot applications.commands";

const callbackUrl = (c: AuthedCtx) => `${c.origin}/admin/discord/callback`;

/** Why something failed, as the tenant reads it (Fluent ids), by the pipeline's error code. */
const ERRORS: Record<string, { status: number; message: string }> = {
  cancelled: { status: 400, message: msg("discord-err-cancelled") },
  state: { status: 400, message: msg("discord-err-state") },
  exchange_failed: { status: 502, message: msg("discord-err-exchange") },
  not_configured: { status: 503, message: msg("discord-unconfigured") },
  guild_taken: { status: 409, message: msg("discord-err-taken") },
  discord_unavailable: { status: 502, message: msg("discord-err-unavailable") },
  unknown_channel: { status: 422, message: msg("discord-err-channel") },
  unknown_role: { status: 422, message: msg("discord-err-role") },
  invalid_input: { status: 422, message: msg("discord-err-invalid") },
  not_installed: { status: 409, message: msg("discord-err-not-installed") },
};
const failure = (code: string) => ERRORS[code] ?? ERRORS.discord_unavailable!;

const DONE: Record<string, string> = {
  installed: msg("discord-done-installed"),
  saved: msg("discord-done-saved"),
  uninstalled: msg("discord-done-uninstalled"),
};

type Setup = Awaited<ReturnType<Env["PIPELINE"]["getDiscordSetup"]>>;

function radio(name: string, value: string, checked: boolean, label: string): Html {
  return html`<label><input type="radio" name="${name}" value="${value}"${checked ? html` checked` : null}> ${label}</label>`;
}

function installBody(c: AuthedCtx): Html {
  const { t } = c;
  if (!c.env.DISCORD_CLIENT_ID) return html`<p class="card">${t("discord-unconfigured")}</p>`;
  return html`<p class="muted">${t("discord-lead")}</p>
<div class="card stack">
  <p>${t("discord-permissions")}</p>
  <div><a class="button" href="/admin/discord/install">${t("discord-add")}</a></div>
</div>`;
}

function settingsBody(c: AuthedCtx, setup: Setup): Html {
  const { t } = c;
  const install = setup.install!;
  const channelChosen = install.inboxChannelId;
  // A saved choice stays visible even when Discord could not be asked for the lists.
  const channels =
    channelChosen && !setup.channels.some((ch) => ch.id === channelChosen)
      ? [...setup.channels, { id: channelChosen, name: channelChosen }]
      : setup.channels;
  const roles =
    install.staffRoleId && !setup.roles.some((r) => r.id === install.staffRoleId)
      ? [...setup.roles, { id: install.staffRoleId, name: install.staffRoleId }]
      : setup.roles;
  return html`<p>${t("discord-installed-in", { guild: install.guildName ?? install.guildId })}</p>
${setup.lookupFailed ? html`<p class="notice error" role="alert">${t("discord-lookup-failed")}</p>` : null}
<form class="card stack" method="post" action="/admin/discord/settings" id="discord-settings">
  ${csrfField(c)}
  <fieldset class="field"><legend>${t("discord-settings-legend")}</legend>
  <div class="field">
    <label for="f-inbox">${t("discord-inbox-channel")}</label>
    <span class="hint" id="f-inbox-hint">${t("discord-inbox-channel-hint")}</span>
    <select id="f-inbox" name="inboxChannelId" aria-describedby="f-inbox-hint">
      <option value="">${t("discord-no-channel")}</option>
      ${channels.map(
        (ch) =>
          html`<option value="${ch.id}"${ch.id === channelChosen ? html` selected` : null}>#${ch.name}</option>`,
      )}
    </select>
  </div>
  <div class="field">
    <label for="f-role">${t("discord-staff-role")}</label>
    <span class="hint" id="f-role-hint">${t("discord-staff-role-hint")}</span>
    <select id="f-role" name="staffRoleId" aria-describedby="f-role-hint">
      <option value="">${t("discord-no-role")}</option>
      ${roles.map(
        (r) =>
          html`<option value="${r.id}"${r.id === install.staffRoleId ? html` selected` : null}>@${r.name}</option>`,
      )}
    </select>
  </div>
  </fieldset>
  <fieldset class="field"><legend>${t("discord-relay-mode")}</legend>
    ${radio("relayMode", "all", install.relayMode === "all", t("discord-relay-all"))}
    ${radio("relayMode", "needs_human", install.relayMode === "needs_human", t("discord-relay-needs-human"))}
  </fieldset>
  <fieldset class="field"><legend>${t("discord-after-reply")}</legend>
    ${radio("afterHumanReply", "silent", install.afterHumanReply === "silent", t("discord-after-silent"))}
    ${radio("afterHumanReply", "keep", install.afterHumanReply === "keep", t("discord-after-keep"))}
  </fieldset>
  <div><button type="submit">${t("discord-save")}</button></div>
</form>
<form class="card stack" method="post" action="/admin/discord/uninstall" id="discord-uninstall">
  ${csrfField(c)}
  <p class="muted">${t("discord-uninstall-hint")}</p>
  <div><button class="danger" type="submit">${t("discord-uninstall")}</button></div>
</form>`;
}

async function discordPage(
  c: AuthedCtx,
  opts: { error?: string | null; notice?: string | null; status?: number; setup?: Setup } = {},
): Promise<Response> {
  const setup = opts.setup ?? (await c.env.PIPELINE.getDiscordSetup(c.session.tenantId));
  const body = setup.install ? settingsBody(c, setup) : installBody(c);
  return respond(
    c,
    page(c, {
      title: c.t("discord-title"),
      section: "discord",
      body,
      notice: opts.notice ? c.t(opts.notice) : null,
      error: opts.error ? c.t(opts.error) : null,
    }),
    opts.status ?? 200,
  );
}

/** GET /admin/discord: "Add to Discord", or the installed bot's settings. */
export function discordSettingsPage(c: AuthedCtx): Promise<Response> {
  const done = DONE[c.searchParams.get("done") ?? ""] ?? null;
  return discordPage(c, { notice: done });
}

/** GET /admin/discord/install: `state` for this tenant and browser, then Discord's authorize page. */
export async function discordInstall(c: AuthedCtx): Promise<Response> {
  if (!c.env.DISCORD_CLIENT_ID) return discordPage(c);
  const state = randomString();
  const pending = { tenantId: c.session.tenantId, ...(fromWizard(c) ? { wizard: true } : {}) };
  await c.env.KV.put(stateKey(state), JSON.stringify(pending), { expirationTtl: TTL_SECONDS });
  const authorize = new URL(c.env.DISCORD_AUTHORIZE_URL);
  authorize.search = new URLSearchParams({
    client_id: c.env.DISCORD_CLIENT_ID,
    scope: DISCORD_SCOPES,
    permissions: DISCORD_PERMISSIONS,
    // 0: installed to a server (guild install), the only kind the inbox works with.
    integration_type: "0",
    response_type: "code",
    redirect_uri: callbackUrl(c),
    state,
  }).toString();
  const headers = new Headers({ location: authorize.toString() });
  headers.append("set-cookie", setCookie(DISCORD_COOKIE, state, TTL_SECONDS));
  return new Response(null, { status: 302, headers });
}

/**
 * GET /admin/discord/callback: `state` must be this browser's cookie and an unused one of this
 * tenant; the code then goes to the pipeline. The query's `guild_id` is never used: the guild
 * comes from Discord's token response.
 */
export async function discordCallback(c: AuthedCtx): Promise<Response> {
  const state = c.searchParams.get("state") ?? "";
  const cookie = c.cookies[DISCORD_COOKIE] ?? "";
  const fail = async (code: string) => {
    const e = failure(code);
    const res = await discordPage(c, { error: e.message, status: e.status });
    res.headers.append("set-cookie", clearCookie(DISCORD_COOKIE));
    return res;
  };
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(state) || !cookie || !timingSafeEqualString(state, cookie)) {
    log.warn("discord.state_refused", { reason: "state_mismatch" });
    return fail("state");
  }
  const raw = await c.env.KV.get(stateKey(state));
  // Single use: gone before anything else happens, whatever follows.
  if (raw) await c.env.KV.delete(stateKey(state));
  const pending = raw ? v.safeParse(StateSchema, JSON.parse(raw)) : null;
  if (!pending?.success || pending.output.tenantId !== c.session.tenantId) {
    log.warn("discord.state_refused", { reason: "state_unknown" });
    return fail("state");
  }
  const code = c.searchParams.get("code");
  if (!code || c.searchParams.has("error")) return fail("cancelled");
  const result = await c.env.PIPELINE.completeDiscordInstall(c.session.tenantId, {
    code,
    redirectUri: callbackUrl(c),
    actor: c.session.userEmail ?? c.session.userId,
  });
  if (!result.ok) return fail(result.error.code);
  const res = redirect(
    pending.output.wizard ? `${WIZARD_NOTIFICATIONS_STEP}?done=discord` : "/admin/discord?done=installed",
  );
  res.headers.append("set-cookie", clearCookie(DISCORD_COOKIE));
  return res;
}

/** POST /admin/discord/settings: the pipeline checks the channel and role against the guild. */
export async function saveDiscordSettingsForm(c: AuthedCtx): Promise<Response> {
  const relayMode = str(c.form, "relayMode");
  const afterHumanReply = str(c.form, "afterHumanReply");
  const result = await c.env.PIPELINE.saveDiscordSettings(c.session.tenantId, {
    inboxChannelId: str(c.form, "inboxChannelId") || null,
    staffRoleId: str(c.form, "staffRoleId") || null,
    relayMode: relayMode as "all",
    afterHumanReply: afterHumanReply as "silent",
  });
  if (!result.ok) {
    const e = failure(result.error.code);
    return discordPage(c, { error: e.message, status: e.status });
  }
  return redirect("/admin/discord?done=saved");
}

/** POST /admin/discord/uninstall: the bot leaves the server; the install is deleted. */
export async function uninstallDiscordForm(c: AuthedCtx): Promise<Response> {
  const result = await c.env.PIPELINE.uninstallDiscord(c.session.tenantId);
  if (!result.ok) {
    const e = failure(result.error.code);
    return discordPage(c, { error: e.message, status: e.status });
  }
  return redirect("/admin/discord?done=uninstalled");
}
