import { WorkerEntrypoint } from "cloudflare:workers";
import type { ApprovalRow, DiscordApi } from "@concierge/core";
import { listPendingApprovals } from "@concierge/storage";
import { relayAction, relayState } from "../channels/discord/actions.ts";
import {
  discordAccounts,
  discordDomains,
  discordGuild,
  discordRules,
  discordStatus,
} from "../channels/discord/commands.ts";
import type { PipelineEnv } from "../env.ts";

/**
 * The Discord API, bound by `discord-interactions`: what a verified interaction from a tenant's
 * guild may read and do. The Worker learns the tenant from `discordGuild` and passes it back; each
 * method checks that what it names belongs to that tenant.
 */
export class DiscordEntrypoint extends WorkerEntrypoint<PipelineEnv> implements DiscordApi {
  discordGuild(guildId: string) {
    return discordGuild(this.env, guildId);
  }

  discordStatus(tenantId: string) {
    return discordStatus(this.env, tenantId);
  }

  discordDomains(tenantId: string) {
    return discordDomains(this.env, tenantId);
  }

  discordAccounts(tenantId: string) {
    return discordAccounts(this.env, tenantId);
  }

  discordRules(tenantId: string, accountRef: string) {
    return discordRules(this.env, tenantId, accountRef);
  }

  listApprovals(tenantId: string): Promise<ApprovalRow[]> {
    return listPendingApprovals(this.env.DB, tenantId);
  }

  relayState(tenantId: string, relayId: string) {
    return relayState(this.env, tenantId, relayId);
  }

  /**
   * Reply, Approve or Drop, once: a second action on a handled item is `already_handled`. Take
   * over, Hand back and Pause change who answers the customer and may be pressed again.
   */
  relayAction(tenantId: string, relayId: string, action: unknown, actor: unknown) {
    return relayAction(this.env, tenantId, relayId, action, actor);
  }
}
