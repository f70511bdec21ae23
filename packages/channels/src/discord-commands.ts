/**
 * The slash commands the bot offers, as Discord's bulk-overwrite endpoint takes them
 * (`PUT /applications/{application.id}/commands`, registered by `pnpm discord:register`).
 * Guild-only: every command answers about the tenant the server belongs to.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPutAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";

export const COMMAND_STATUS = "status";
export const COMMAND_DOMAINS = "domains";
export const COMMAND_RULES = "rules";
/** /rules' option: the channel account, offered by autocomplete (its value is the account id). */
export const RULES_ACCOUNT_OPTION = "account";

const guildOnly = () => ({
  type: ApplicationCommandType.ChatInput as const,
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
});

// Discord has no Indian English locale (en-IN) to localize into; "en-GB" and "en-US" read the
// same, so the descriptions stay in one English and the answers follow the tenant's locale.
export const DISCORD_COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  {
    ...guildOnly(),
    name: COMMAND_STATUS,
    description: "Channels and their health, credit balance, AI status and pending approvals",
  },
  {
    ...guildOnly(),
    name: COMMAND_DOMAINS,
    description: "Email subdomains and whether mail arrives on them",
  },
  {
    ...guildOnly(),
    name: COMMAND_RULES,
    description: "Reply rules of a channel account, in the order they are tried",
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: RULES_ACCOUNT_OPTION,
        description: "The WhatsApp number, Instagram account or email subdomain",
        required: true,
        autocomplete: true,
        max_length: 100,
      },
    ],
  },
];
