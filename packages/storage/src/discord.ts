/**
 * The Discord bot's installation per tenant, and the items relayed to its inbox channel. Ids and
 * states only: what the customer wrote is in Discord's message, never here.
 */
import type { AfterHumanReply, DiscordInstall, RelayKind, RelayMode, RelayStatus } from "@concierge/core";

export type { AfterHumanReply, DiscordInstall, RelayKind, RelayMode, RelayStatus };

const INSTALL_COLUMNS = `tenant_id AS tenantId, guild_id AS guildId, guild_name AS guildName,
  inbox_channel_id AS inboxChannelId, staff_role_id AS staffRoleId, relay_mode AS relayMode,
  after_human_reply AS afterHumanReply, installed_by AS installedBy, created_at AS createdAt,
  updated_at AS updatedAt`;

export async function getDiscordInstall(db: D1Database, tenantId: string): Promise<DiscordInstall | null> {
  return db
    .prepare(`SELECT ${INSTALL_COLUMNS} FROM discord_installs WHERE tenant_id = ?`)
    .bind(tenantId)
    .first<DiscordInstall>();
}

export async function getDiscordInstallByGuild(
  db: D1Database,
  guildId: string,
): Promise<DiscordInstall | null> {
  return db
    .prepare(`SELECT ${INSTALL_COLUMNS} FROM discord_installs WHERE guild_id = ?`)
    .bind(guildId)
    .first<DiscordInstall>();
}

/**
 * Whether the bot serves another business in this guild now: installed there by a tenant other
 * than `exceptTenantId` that is not being deleted (a retried leave must not take the bot away
 * from it; a deleting one wants it gone too).
 */
export async function guildServesAnotherTenant(
  db: D1Database,
  guildId: string,
  exceptTenantId: string | null,
): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT 1 AS x FROM discord_installs i JOIN tenants t ON t.id = i.tenant_id
        WHERE i.guild_id = ? AND i.tenant_id IS NOT ? AND t.deleting_at IS NULL`,
    )
    .bind(guildId, exceptTenantId)
    .first();
  return row !== null;
}

/**
 * Records the bot's installation in a guild. A guild belongs to one tenant: a guild another tenant
 * installed is `guild_taken`; the same tenant installing again (or into another guild) replaces
 * its row, keeping nothing of the old guild's choices.
 */
export async function saveDiscordInstall(
  db: D1Database,
  i: { tenantId: string; guildId: string; guildName: string | null; installedBy: string | null },
  now = Date.now(),
): Promise<{ ok: true } | { ok: false; code: "guild_taken" }> {
  const owner = await getDiscordInstallByGuild(db, i.guildId);
  if (owner && owner.tenantId !== i.tenantId) return { ok: false, code: "guild_taken" };
  try {
    await db.batch([
      // A move to another server drops the notification channel of the old one: the bot may
      // stay there for someone else, and the tenant's notices must not follow it.
      db
        .prepare(
          `UPDATE tenants SET notify_discord_channel_id = NULL
            WHERE id = ?1 AND EXISTS (SELECT 1 FROM discord_installs WHERE tenant_id = ?1 AND guild_id <> ?2)`,
        )
        .bind(i.tenantId, i.guildId),
      db
        .prepare(
          `INSERT INTO discord_installs (tenant_id, guild_id, guild_name, installed_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (tenant_id) DO UPDATE SET
           guild_id = excluded.guild_id, guild_name = excluded.guild_name, installed_by = excluded.installed_by,
           inbox_channel_id = CASE WHEN guild_id = excluded.guild_id THEN inbox_channel_id END,
           staff_role_id = CASE WHEN guild_id = excluded.guild_id THEN staff_role_id END,
           updated_at = excluded.updated_at`,
        )
        .bind(i.tenantId, i.guildId, i.guildName, i.installedBy, now),
    ]);
  } catch (err) {
    // The UNIQUE guild_id: another tenant installed the same guild in the meantime.
    if (String(err).includes("UNIQUE")) return { ok: false, code: "guild_taken" };
    throw err;
  }
  return { ok: true };
}

export async function updateDiscordSettings(
  db: D1Database,
  tenantId: string,
  s: {
    inboxChannelId: string | null;
    staffRoleId: string | null;
    relayMode: RelayMode;
    afterHumanReply: AfterHumanReply;
  },
  now = Date.now(),
): Promise<boolean> {
  const r = await db
    .prepare(
      `UPDATE discord_installs SET inbox_channel_id = ?, staff_role_id = ?, relay_mode = ?, after_human_reply = ?, updated_at = ?
       WHERE tenant_id = ?`,
    )
    .bind(s.inboxChannelId, s.staffRoleId, s.relayMode, s.afterHumanReply, now, tenantId)
    .run();
  return r.meta.changes > 0;
}

/**
 * The bot's installation goes, and with it the notification channel, which was a channel of that
 * server: the bot may be installed there by someone else later, and notices must not go there.
 */
export async function deleteDiscordInstall(db: D1Database, tenantId: string): Promise<DiscordInstall | null> {
  const [, deleted] = await db.batch<DiscordInstall>([
    db.prepare("UPDATE tenants SET notify_discord_channel_id = NULL WHERE id = ?").bind(tenantId),
    db
      .prepare(`DELETE FROM discord_installs WHERE tenant_id = ? RETURNING ${INSTALL_COLUMNS}`)
      .bind(tenantId),
  ]);
  return deleted?.results[0] ?? null;
}

export type DiscordRelay = {
  id: string;
  tenantId: string;
  accountId: string;
  channel: string;
  customerId: string;
  threadKey: string;
  kind: RelayKind;
  approvalId: string | null;
  providerMessageId: string | null;
  guildId: string;
  channelId: string;
  discordMessageId: string | null;
  status: RelayStatus;
  handledBy: string | null;
  handledAt: number | null;
  createdAt: number;
};

const RELAY_COLUMNS = `id, tenant_id AS tenantId, account_id AS accountId, channel, customer_id AS customerId,
  thread_key AS threadKey, kind, approval_id AS approvalId, provider_message_id AS providerMessageId,
  guild_id AS guildId, channel_id AS channelId, discord_message_id AS discordMessageId, status,
  handled_by AS handledBy, handled_at AS handledAt, created_at AS createdAt`;

export type NewRelay = Omit<
  DiscordRelay,
  "discordMessageId" | "status" | "handledBy" | "handledAt" | "createdAt"
>;

/** Idempotent on the id: a retried relay never makes a second row. */
export async function createRelay(db: D1Database, r: NewRelay, now = Date.now()): Promise<void> {
  await db
    .prepare(
      `INSERT OR IGNORE INTO discord_relays (id, tenant_id, account_id, channel, customer_id, thread_key, kind,
         approval_id, provider_message_id, guild_id, channel_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      r.id,
      r.tenantId,
      r.accountId,
      r.channel,
      r.customerId,
      r.threadKey,
      r.kind,
      r.approvalId,
      r.providerMessageId,
      r.guildId,
      r.channelId,
      now,
    )
    .run();
}

export async function setRelayMessageId(
  db: D1Database,
  tenantId: string,
  id: string,
  discordMessageId: string,
): Promise<void> {
  await db
    .prepare("UPDATE discord_relays SET discord_message_id = ? WHERE id = ? AND tenant_id = ?")
    .bind(discordMessageId, id, tenantId)
    .run();
}

export async function getRelay(db: D1Database, tenantId: string, id: string): Promise<DiscordRelay | null> {
  return db
    .prepare(`SELECT ${RELAY_COLUMNS} FROM discord_relays WHERE id = ? AND tenant_id = ?`)
    .bind(id, tenantId)
    .first<DiscordRelay>();
}

export async function getRelayByApproval(
  db: D1Database,
  tenantId: string,
  approvalId: string,
): Promise<DiscordRelay | null> {
  return db
    .prepare(`SELECT ${RELAY_COLUMNS} FROM discord_relays WHERE approval_id = ? AND tenant_id = ?`)
    .bind(approvalId, tenantId)
    .first<DiscordRelay>();
}

/**
 * The lock for a person's action: only an `open` item changes, once. A second click (or a click
 * racing another) finds nothing to change and `changed` is false.
 */
export async function transitionRelay(
  db: D1Database,
  tenantId: string,
  id: string,
  to: Exclude<RelayStatus, "open">,
  /** Who handled it, as Discord shows it; null when no person did (an expiry, a failure). */
  actor: string | null,
  now = Date.now(),
): Promise<{ changed: boolean }> {
  const r = await db
    .prepare(
      "UPDATE discord_relays SET status = ?, handled_by = ?, handled_at = ? WHERE id = ? AND tenant_id = ? AND status = 'open'",
    )
    .bind(to, actor, now, id, tenantId)
    .run();
  return { changed: r.meta.changes > 0 };
}

/** Puts an item back to `open` when the action it was locked for could not be carried out. */
export async function reopenRelay(db: D1Database, tenantId: string, id: string): Promise<void> {
  await db
    .prepare(
      "UPDATE discord_relays SET status = 'open', handled_by = NULL, handled_at = NULL WHERE id = ? AND tenant_id = ?",
    )
    .bind(id, tenantId)
    .run();
}
