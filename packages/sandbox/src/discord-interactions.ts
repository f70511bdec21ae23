/**
 * Discord's side of interactions, played by the sandbox: the interaction webhook the Worker
 * answers through (edit the original message, ephemeral follow-ups), the bulk command
 * registration, and a page + API that presses Reply / Approve / Drop on a recorded inbox message
 * and submits the Reply modal as Discord would: a signed MESSAGE_COMPONENT or MODAL_SUBMIT
 * interaction posted to discord-interactions, whose answer and later edits change the message.
 */
import { randomBytes } from "node:crypto";
import { signedInteraction } from "@concierge/testing/discord";
import type {
  APIInteractionResponse,
  ComponentType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
} from "discord-api-types/v10";
import { type DiscordMessage, type DiscordReply, type FakeDiscord, fakeSnowflake } from "./discord.ts";

export type WebhookCall = {
  token: string;
  kind: "edit_original" | "follow_up";
  body: Record<string, unknown>;
  /** Follow-ups flagged ephemeral: only the person who acted would see them. */
  ephemeral: boolean;
  at: number;
};

export type PressInput = {
  messageId: string;
  action: "reply" | "approve" | "drop" | "submit";
  /** The Reply modal's text (action "submit"). */
  text?: string;
  guildId?: string;
  user?: { id?: string; name?: string };
  roles?: string[];
  /** The member's permission bitfield; defaults to Manage Server. */
  permissions?: string;
};

export type PressResult = {
  status: number;
  /** What the Worker answered: a modal to fill, an ephemeral message, or a deferred update. */
  response: APIInteractionResponse | null;
  token: string;
  message: DiscordMessage | null;
};

// Discord's numbers, typed by discord-api-types' enums: the sandbox also runs inside vitest's
// module runner, where that package's CommonJS enum values do not load.
const Ephemeral = (1 << 6) as MessageFlags.Ephemeral;
const ModalSubmit = 5 as InteractionType.ModalSubmit;
const MessageComponent = 3 as InteractionType.MessageComponent;
const Label = 18 as ComponentType.Label;
const TextInput = 4 as ComponentType.TextInput;
const Button = 2 as ComponentType.Button;
const UpdateMessage = 7 as InteractionResponseType.UpdateMessage;

const API = "/discord/api/v10";
const EDIT_ORIGINAL = new RegExp(`^${API}/webhooks/(\\d+)/([^/]+)/messages/@original$`);
const FOLLOW_UP = new RegExp(`^${API}/webhooks/(\\d+)/([^/]+)$`);
const COMMANDS = new RegExp(`^${API}/applications/(\\d+)/commands$`);
const MANAGE_GUILD = "32";

const invalid = (message: string): DiscordReply => ({
  status: 400,
  body: { ok: false, error: { code: "invalid", message } },
});

function parse(raw: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class FakeDiscordInteractions {
  readonly calls: WebhookCall[] = [];
  /** The last bulk overwrite of the application's commands. */
  commands: Record<string, unknown>[] = [];
  commandPuts = 0;
  /** Where interactions are posted: discord-interactions' POST /interactions. */
  interactionsUrl = "";
  /** Interaction token → the inbox message it is about, so @original edits land on it. */
  private readonly tokens = new Map<string, string>();

  private readonly discord: FakeDiscord;
  private readonly opts: { applicationId: string; privateKeyHex: string; botToken: string | null };

  constructor(
    discord: FakeDiscord,
    opts: { applicationId: string; privateKeyHex: string; botToken: string | null },
  ) {
    this.discord = discord;
    this.opts = opts;
  }

  reset(): void {
    this.calls.length = 0;
    this.tokens.clear();
    this.commands = [];
    this.commandPuts = 0;
  }

  /** PATCH /webhooks/{application.id}/{interaction.token}/messages/@original */
  private editOriginal(appId: string, token: string, raw: string): DiscordReply {
    if (appId !== this.opts.applicationId)
      return { status: 404, body: { message: "Unknown Webhook", code: 10015 } };
    const body = parse(raw);
    if (!body) return { status: 400, body: { message: "Invalid Form Body", code: 50035 } };
    this.calls.push({ token, kind: "edit_original", body, ephemeral: false, at: Date.now() });
    const messageId = this.tokens.get(token);
    const edited = messageId ? this.discord.editMessage(messageId, body) : null;
    return {
      status: 200,
      body: edited
        ? { id: edited.id, channel_id: edited.channelId, content: edited.content, embeds: edited.embeds }
        : { id: fakeSnowflake(), content: body.content ?? "", embeds: body.embeds ?? [] },
    };
  }

  /** POST /webhooks/{application.id}/{interaction.token} */
  private followUp(appId: string, token: string, raw: string): DiscordReply {
    if (appId !== this.opts.applicationId)
      return { status: 404, body: { message: "Unknown Webhook", code: 10015 } };
    const body = parse(raw);
    if (!body || (typeof body.content !== "string" && !Array.isArray(body.embeds))) {
      return { status: 400, body: { message: "Cannot send an empty message", code: 50006 } };
    }
    const ephemeral = ((Number(body.flags) || 0) & Ephemeral) !== 0;
    this.calls.push({ token, kind: "follow_up", body, ephemeral, at: Date.now() });
    return {
      status: 200,
      body: { id: fakeSnowflake(), content: body.content ?? "", flags: body.flags ?? 0 },
    };
  }

  /** PUT /applications/{application.id}/commands: the bulk overwrite `pnpm discord:register` makes. */
  private putCommands(appId: string, authorization: string | undefined, raw: string): DiscordReply {
    if (this.opts.botToken !== null && authorization !== `Bot ${this.opts.botToken}`) {
      return { status: 401, body: { message: "401: Unauthorized", code: 0 } };
    }
    if (appId !== this.opts.applicationId)
      return { status: 403, body: { message: "Missing Access", code: 50001 } };
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      return { status: 400, body: { message: "Invalid Form Body", code: 50035 } };
    }
    if (!Array.isArray(list) || list.length > 100) {
      return { status: 400, body: { message: "Invalid Form Body", code: 50035 } };
    }
    for (const c of list as Record<string, unknown>[]) {
      const name = typeof c?.name === "string" ? c.name : "";
      const description = typeof c?.description === "string" ? c.description : "";
      if (!/^[-_\p{L}\p{N}]{1,32}$/u.test(name) || name !== name.toLowerCase() || description.length > 100) {
        return { status: 400, body: { message: "Invalid Form Body", code: 50035, errors: { name } } };
      }
    }
    this.commandPuts += 1;
    this.commands = (list as Record<string, unknown>[]).map((c) => ({
      ...c,
      id: fakeSnowflake(),
      application_id: appId,
      version: fakeSnowflake(),
    }));
    return { status: 200, body: this.commands };
  }

  private guildOf(channelId: string): string | null {
    for (const g of this.discord.guilds.values()) {
      if (g.channels.some((c) => c.id === channelId)) return g.id;
    }
    return null;
  }

  /** Plays one click or modal submit on a recorded message, signed as Discord signs it. */
  async press(input: PressInput): Promise<PressResult | { status: number; error: string }> {
    const m = this.discord.findMessage(input.messageId);
    if (!m) return { status: 404, error: "No such message." };
    if (!this.interactionsUrl) return { status: 409, error: "No interactions URL is set." };
    const guildId = input.guildId ?? this.guildOf(m.channelId);
    if (!guildId) return { status: 400, error: "guildId is required (the channel's guild is unknown)." };
    const relayId = findRelayId(m);
    if (!relayId) return { status: 400, error: "The message has no relay buttons." };
    const token = `sandbox-${randomBytes(24).toString("base64url")}`;
    this.tokens.set(token, m.id);
    const userId = input.user?.id ?? "100000000000000001";
    const name = input.user?.name ?? "sandbox-staff";
    const base = {
      id: fakeSnowflake(),
      application_id: this.opts.applicationId,
      token,
      version: 1,
      guild_id: guildId,
      channel_id: m.channelId,
      locale: "en-US",
      guild_locale: "en-US",
      member: {
        user: { id: userId, username: name, global_name: name, discriminator: "0", avatar: null },
        roles: input.roles ?? [],
        permissions: input.permissions ?? MANAGE_GUILD,
        nick: null,
        joined_at: new Date(0).toISOString(),
        deaf: false,
        mute: false,
        flags: 0,
      },
      message: {
        id: m.id,
        channel_id: m.channelId,
        type: 0,
        content: m.content,
        embeds: m.embeds,
        components: m.components,
      },
    };
    const interaction =
      input.action === "submit"
        ? {
            ...base,
            type: ModalSubmit,
            data: {
              custom_id: `relay:modal:${relayId}`,
              components: [
                {
                  type: Label,
                  id: 1,
                  component: {
                    type: TextInput,
                    id: 2,
                    custom_id: "text",
                    value: input.text ?? "",
                  },
                },
              ],
            },
          }
        : {
            ...base,
            type: MessageComponent,
            data: { custom_id: `relay:${input.action}:${relayId}`, component_type: Button },
          };
    const signed = await signedInteraction(this.opts.privateKeyHex, interaction);
    const res = await fetch(this.interactionsUrl, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
    });
    const response = res.ok ? ((await res.json()) as APIInteractionResponse) : null;
    // UPDATE_MESSAGE changes the message at once, as Discord applies it.
    if (response?.type === UpdateMessage && response.data) {
      this.discord.editMessage(m.id, response.data as Record<string, unknown>);
    }
    return { status: res.status, response, token, message: this.discord.findMessage(m.id) ?? null };
  }

  async handle(
    method: string,
    url: URL,
    authorization: string | undefined,
    readBody: () => Promise<string>,
  ): Promise<DiscordReply | null> {
    const path = url.pathname;
    const edit = method === "PATCH" ? EDIT_ORIGINAL.exec(path) : null;
    if (edit) return this.editOriginal(edit[1]!, decodeURIComponent(edit[2]!), await readBody());
    const follow = method === "POST" ? FOLLOW_UP.exec(path) : null;
    if (follow) return this.followUp(follow[1]!, decodeURIComponent(follow[2]!), await readBody());
    const commands = method === "PUT" ? COMMANDS.exec(path) : null;
    if (commands) return this.putCommands(commands[1]!, authorization, await readBody());
    if (method === "GET" && path === "/__sandbox/discord/commands") {
      return { status: 200, body: { commands: this.commands, puts: this.commandPuts } };
    }
    if (method === "GET" && path === "/__sandbox/discord/interactions") {
      const token = url.searchParams.get("token");
      return {
        status: 200,
        body: { calls: token ? this.calls.filter((c) => c.token === token) : this.calls },
      };
    }
    if (method === "POST" && path === "/__sandbox/discord/interactions-url") {
      const b = parse(await readBody());
      if (typeof b?.url !== "string" || !/^https?:\/\//.test(b.url)) return invalid("url is required");
      this.interactionsUrl = b.url;
      return { status: 200, body: { ok: true } };
    }
    if (method === "POST" && path === "/__sandbox/discord/press") {
      const b = parse(await readBody()) as PressInput | null;
      if (
        !b ||
        typeof b.messageId !== "string" ||
        !["reply", "approve", "drop", "submit"].includes(b.action)
      ) {
        return invalid("messageId and action (reply, approve, drop, submit) are required");
      }
      const r = await this.press(b);
      if ("error" in r)
        return { status: r.status, body: { ok: false, error: { code: "press_failed", message: r.error } } };
      return { status: 200, body: { ok: true, ...r } };
    }
    if (method === "GET" && path === "/discord/inbox")
      return { status: 200, body: inboxPage(this.discord.messages) };
    return null;
  }
}

/** The relay id from a message's buttons (`relay:<action>:<relayId>`). */
function findRelayId(m: DiscordMessage): string | null {
  const text = JSON.stringify(m.components);
  return /"relay:(?:reply|approve|drop):([\w-]{1,80})"/.exec(text)?.[1] ?? null;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** A plain page of the recorded inbox messages with their buttons, pressed through /__sandbox/discord/press. */
function inboxPage(messages: DiscordMessage[]): string {
  const items = messages
    .map((m) => {
      const relay = findRelayId(m);
      const embeds = (
        m.embeds as { title?: string; description?: string; fields?: { name: string; value: string }[] }[]
      )
        .map(
          (e) =>
            `<div class="embed"><b>${esc(e.title ?? "")}</b><p>${esc(e.description ?? "")}</p>${(
              e.fields ?? []
            )
              .map((f) => `<p><b>${esc(f.name)}</b>: ${esc(f.value)}</p>`)
              .join("")}</div>`,
        )
        .join("");
      const labels = [
        ...JSON.stringify(m.components).matchAll(/"custom_id":"relay:(reply|approve|drop):/g),
      ].map((x) => x[1]!);
      const buttons = relay
        ? labels.map((a) => `<button data-id="${esc(m.id)}" data-action="${a}">${a}</button>`).join(" ")
        : "";
      return `<li><small>#${esc(m.channelId)} · ${esc(m.id)}</small><p>${esc(m.content)}</p>${embeds}${buttons}</li>`;
    })
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Discord inbox (sandbox)</title><style>body{font:15px system-ui;margin:16px;max-width:720px}li{list-style:none;border:1px solid #ccc;border-radius:8px;padding:8px;margin:8px 0}.embed{border-left:4px solid #5865f2;padding-left:8px}#out{white-space:pre-wrap;background:#f4f4f4;padding:8px}</style></head>
<body><h1>Discord inbox (sandbox)</h1><p>Buttons send signed interactions to discord-interactions, as Discord would.</p>
<pre id="out"></pre><ul>${items || "<li>No messages yet.</li>"}</ul>
<script>
const out = document.getElementById("out");
async function press(body) {
  const r = await fetch("/__sandbox/discord/press", { method: "POST", body: JSON.stringify(body) });
  const j = await r.json();
  const resp = j.response;
  if (resp && resp.type === 9) {
    const text = prompt(resp.data.title);
    if (text) return press({ messageId: body.messageId, action: "submit", text });
  }
  out.textContent = JSON.stringify(j.response ?? j.error, null, 2);
  setTimeout(() => location.reload(), 1500);
}
for (const b of document.querySelectorAll("button[data-id]")) {
  b.addEventListener("click", () => press({ messageId: b.dataset.id, action: b.dataset.action }));
}
</script></body></html>`;
}
