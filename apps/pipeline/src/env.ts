import type { AiBinding } from "@concierge/ai";
import type { ConversationDO } from "./conversation.ts";
import type { SafetyJob } from "./safety.ts";

/**
 * The pipeline's bindings. Written out (rather than the generated global `Env`) because the
 * ingress Workers type-check this source through their typed service binding, where the global
 * `Env` is theirs. `env-check.ts` proves it matches the generated types of wrangler.jsonc.
 */
export interface PipelineEnv {
  DB: D1Database;
  CONVERSATIONS: DurableObjectNamespace<ConversationDO>;
  META_GRAPH_BASE_URL: string;
  ENCRYPTION_KEY: string;
  WHATSAPP_ACCESS_TOKEN: string;
  /** The Meta app: Instagram page tokens are checked with its app access token. */
  FACEBOOK_APP_ID: string;
  META_APP_SECRET: string;
  /** Milliseconds config reads stay cached in an isolate (default 10000; 0 = off). */
  CONFIG_CACHE_MS?: string;
  SAFETY: Queue<SafetyJob>;
  /** Deployment only; locally AI_PROVIDER is offline (or openai). */
  AI?: AiBinding;
  AI_PROVIDER: string;
  DISCORD_API_BASE_URL: string;
  DISCORD_BOT_TOKEN: string;
  /** The Discord application: the bot install's code exchange (with DISCORD_CLIENT_SECRET). */
  DISCORD_CLIENT_ID: string;
  DISCORD_CLIENT_SECRET: string;
  EMAIL: SendEmail;
  /** Local only: where deliverEmail posts mail instead of the binding (the sandbox outbox). */
  EMAIL_OUTBOX_URL?: string;
  NOTIFY_EMAIL_FROM: string;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  /** Tenants' email subdomains live under this domain (acme.<EMAIL_DOMAIN>). */
  EMAIL_DOMAIN: string;
  /** Cloudflare API v4 (Email Routing for the subdomains); tests point it at the sandbox. */
  CLOUDFLARE_API_BASE_URL: string;
  /** The zone of EMAIL_DOMAIN. */
  CLOUDFLARE_ZONE_ID: string;
  CLOUDFLARE_API_TOKEN: string;
  /** The Worker the subdomains' mail is routed to. */
  EMAIL_INBOUND_WORKER: string;
  /** The dashboard's public origin: forward-address verification links point at it. */
  DASHBOARD_URL: string;
}
