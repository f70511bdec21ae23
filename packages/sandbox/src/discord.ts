/**
 * A fake of the Discord REST API and of its bot authorization page, speaking Discord's wire format:
 * Create/Edit Message (with embeds, components, `nonce` + `enforce_nonce`), Get Channel, Get Guild
 * Channels and Roles, Leave Guild, Get Current User (the bot's own user), the OAuth2 authorize page and the code exchange whose answer carries the
 * `guild` the bot was added to. Faults can be injected per route for tests.
 */
export type DiscordEdit = { content?: string; embeds?: unknown[]; components?: unknown[]; at: number };

export type DiscordMessage = {
  id: string;
  channelId: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  /** Every edit (REST or the interaction webhook), in order; the fields above show the latest. */
  edits: DiscordEdit[];
  nonce: string | null;
  /** The `allowed_mentions` the post carried (null: none given, Discord's default parsing). */
  allowedMentions: unknown;
  at: number;
};

export type DiscordChannel = {
  id: string;
  type: number;
  name: string;
  position: number;
  parent_id: string | null;
};
export type DiscordRole = {
  id: string;
  name: string;
  position: number;
  permissions: string;
  color: number;
  managed: boolean;
};
export type DiscordGuild = { id: string; name: string; channels: DiscordChannel[]; roles: DiscordRole[] };

export type DiscordRoute = "create" | "edit" | "token" | "channel" | "channels" | "roles" | "leave" | "me";
export type DiscordFault = {
  route: DiscordRoute;
  status: number;
  /** Seconds for the `Retry-After` header and `retry_after` (429). */
  retryAfter?: number;
  /** "after": carry the request out, then answer the fault (an outcome the caller cannot know). */
  when?: "before" | "after";
  /** Only requests about this channel (create/edit/channel) or guild (channels/roles/leave) fail. */
  target?: string;
  count?: number;
};

export type DiscordReply = { status: number; body: unknown; headers?: Record<string, string> };

export type FakeDiscordOptions = {
  /** The bot token the API expects; null accepts any. */
  botToken: string | null;
  /** The application's client id and secret for the code exchange; null accepts any. */
  clientId: string | null;
  clientSecret: string | null;
};

type Code = { guildId: string; redirectUri: string; scope: string; permissions: string; expiresAt: number };

// Discord's documented limits (Embed Limits, Create Message).
const LIMITS = {
  content: 2000,
  title: 256,
  description: 4096,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  author: 256,
  fields: 25,
  total: 6000,
  embeds: 10,
};
const NONCE_WINDOW_MS = 5 * 60 * 1000;
const CODE_TTL_MS = 10 * 60 * 1000;
const TEXT = 0;
const VOICE = 2;
const CATEGORY = 4;

let snowflakeSeq = 0n;
/** A snowflake-looking id (19 digits), unique within this process. */
export function fakeSnowflake(): string {
  snowflakeSeq += 1n;
  return String(
    1_300_000_000_000_000_000n + BigInt(Date.now() % 1_000_000_000) * 1000n + (snowflakeSeq % 1000n),
  );
}

export class FakeDiscord {
  readonly messages: DiscordMessage[] = [];
  readonly guilds = new Map<string, DiscordGuild>();
  /** Guilds the bot is a member of (added by an authorization, removed by Leave Guild). */
  readonly botGuilds = new Set<string>();
  readonly leaves: { guildId: string; at: number }[] = [];
  readonly tokenRequests: { code: string | null; ok: boolean; error: string | null; at: number }[] = [];
  private readonly codes = new Map<string, Code>();
  private faults: (DiscordFault & { remaining: number })[] = [];
  private seq = 0;
  private readonly opts: FakeDiscordOptions;

  constructor(opts: FakeDiscordOptions | string | null) {
    this.opts =
      typeof opts === "object" && opts !== null
        ? opts
        : { botToken: opts, clientId: null, clientSecret: null };
    this.addGuild({ id: "1100000000000000001", name: "Sandbox Bakery" });
  }

  /** A guild with a category, two text channels, a voice channel, @everyone, Staff and the bot's role. */
  addGuild(g: { id?: string; name?: string }): DiscordGuild {
    const id = g.id ?? fakeSnowflake();
    const category = fakeSnowflake();
    const guild: DiscordGuild = {
      id,
      name: g.name ?? `Sandbox Server ${id.slice(-4)}`,
      channels: [
        { id: category, type: CATEGORY, name: "Text Channels", position: 0, parent_id: null },
        { id: fakeSnowflake(), type: TEXT, name: "general", position: 0, parent_id: category },
        { id: fakeSnowflake(), type: TEXT, name: "inbox", position: 1, parent_id: category },
        { id: fakeSnowflake(), type: VOICE, name: "General", position: 2, parent_id: category },
      ],
      roles: [
        { id, name: "@everyone", position: 0, permissions: "1071698660929", color: 0, managed: false },
        { id: fakeSnowflake(), name: "Staff", position: 1, permissions: "0", color: 3447003, managed: false },
        {
          id: fakeSnowflake(),
          name: "Concierge",
          position: 2,
          permissions: "84992",
          color: 0,
          managed: true,
        },
      ],
    };
    this.guilds.set(id, guild);
    return guild;
  }

  findMessage(id: string): DiscordMessage | undefined {
    return this.messages.find((m) => m.id === id);
  }

  injectFault(f: DiscordFault): void {
    this.faults.push({ ...f, remaining: f.count ?? 1 });
  }

  reset(): void {
    this.messages.length = 0;
    this.leaves.length = 0;
    this.tokenRequests.length = 0;
    this.faults = [];
  }

  private takeFault(route: DiscordRoute, target: string): (DiscordFault & { remaining: number }) | null {
    const f = this.faults.find((x) => x.route === route && (x.target === undefined || x.target === target));
    if (!f) return null;
    f.remaining -= 1;
    if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }

  private faultReply(f: DiscordFault): DiscordReply {
    if (f.status === 429) {
      const after = f.retryAfter ?? 1;
      return {
        status: 429,
        body: { message: "You are being rate limited.", retry_after: after, global: false },
        headers: { "retry-after": String(after) },
      };
    }
    return { status: f.status, body: { message: `${f.status}: Sandbox fault`, code: 0 } };
  }

  private unauthorized(authorization: string | undefined): DiscordReply | null {
    if (this.opts.botToken !== null && authorization !== `Bot ${this.opts.botToken}`) {
      return { status: 401, body: { message: "401: Unauthorized", code: 0 } };
    }
    return null;
  }

  /** Wraps a route: faults "before" answer instead of it, faults "after" replace its answer. */
  private guarded(route: DiscordRoute, target: string, run: () => DiscordReply): DiscordReply {
    const f = this.takeFault(route, target);
    if (f && f.when !== "after") return this.faultReply(f);
    const r = run();
    return f ? this.faultReply(f) : r;
  }

  /** POST /channels/{channel.id}/messages */
  createMessage(channelId: string, authorization: string | undefined, raw: string): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    return this.guarded("create", channelId, () => {
      if (!this.channelExists(channelId))
        return { status: 404, body: { message: "Unknown Channel", code: 10003 } };
      const body = parseJson(raw);
      if (!body) return invalidForm("Invalid JSON");
      const content = typeof body.content === "string" ? body.content : "";
      const embeds = Array.isArray(body.embeds) ? body.embeds : [];
      const components = Array.isArray(body.components) ? body.components : [];
      if (!content && embeds.length === 0 && components.length === 0) {
        return { status: 400, body: { message: "Cannot send an empty message", code: 50006 } };
      }
      const invalid = checkLimits(content, embeds);
      if (invalid) return invalidForm(invalid);
      const nonce =
        typeof body.nonce === "string" || typeof body.nonce === "number" ? String(body.nonce) : null;
      if (nonce !== null && nonce.length > 25) return invalidForm("nonce: Must be 25 or fewer in length.");
      if (nonce !== null && body.enforce_nonce === true) {
        const same = this.messages.find(
          (m) => m.nonce === nonce && m.channelId === channelId && Date.now() - m.at < NONCE_WINDOW_MS,
        );
        if (same) return { status: 200, body: wire(same) };
      }
      this.seq += 1;
      const id = String(1_310_000_000_000_000_000n + BigInt(this.seq));
      const m: DiscordMessage = {
        id,
        channelId,
        content,
        embeds,
        components,
        edits: [],
        nonce,
        allowedMentions: body.allowed_mentions ?? null,
        at: Date.now(),
      };
      this.messages.push(m);
      return { status: 200, body: wire(m) };
    });
  }

  /** The edit itself, shared by PATCH /channels/{c}/messages/{m} and the interaction webhook. */
  editMessage(
    messageId: string,
    body: { content?: unknown; embeds?: unknown; components?: unknown },
  ): DiscordMessage | null {
    const m = this.findMessage(messageId);
    if (!m) return null;
    const edit: DiscordEdit = { at: Date.now() };
    if (typeof body.content === "string") m.content = edit.content = body.content;
    if (Array.isArray(body.embeds)) m.embeds = edit.embeds = body.embeds;
    if (Array.isArray(body.components)) m.components = edit.components = body.components;
    m.edits.push(edit);
    return m;
  }

  /** PATCH /channels/{channel.id}/messages/{message.id} */
  editMessageRest(
    channelId: string,
    messageId: string,
    authorization: string | undefined,
    raw: string,
  ): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    return this.guarded("edit", channelId, () => {
      const m = this.findMessage(messageId);
      if (!m || m.channelId !== channelId)
        return { status: 404, body: { message: "Unknown Message", code: 10008 } };
      const body = parseJson(raw);
      if (!body) return invalidForm("Invalid JSON");
      const invalid = checkLimits(
        typeof body.content === "string" ? body.content : "",
        Array.isArray(body.embeds) ? body.embeds : [],
      );
      if (invalid) return invalidForm(invalid);
      const edited = this.editMessage(messageId, body);
      return { status: 200, body: wire(edited ?? m) };
    });
  }

  /** GET /channels/{channel.id}/messages/{message.id} */
  getMessage(channelId: string, messageId: string, authorization: string | undefined): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    const m = this.findMessage(messageId);
    if (!m || m.channelId !== channelId)
      return { status: 404, body: { message: "Unknown Message", code: 10008 } };
    return { status: 200, body: wire(m) };
  }

  /**
   * GET /channels/{channel.id}: the channel object, with its `guild_id`, when the bot is in that
   * channel's guild; otherwise Discord's 404 Unknown Channel (10003), as for an id that names no
   * channel at all (unlike Create Message here, no made-up id passes as a channel).
   */
  getChannel(channelId: string, authorization: string | undefined): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    return this.guarded("channel", channelId, () => {
      for (const guildId of this.botGuilds) {
        const g = this.guilds.get(guildId);
        const c = g?.channels.find((x) => x.id === channelId);
        if (g && c)
          return { status: 200, body: { ...c, guild_id: g.id, nsfw: false, permission_overwrites: [] } };
      }
      return { status: 404, body: { message: "Unknown Channel", code: 10003 } };
    });
  }

  /** A test's extra channel in a guild (a text channel unless `type` says otherwise). */
  addChannel(guildId: string, c: { name?: string; type?: number }): DiscordChannel | null {
    const g = this.guilds.get(guildId);
    if (!g) return null;
    const channel: DiscordChannel = {
      id: fakeSnowflake(),
      type: c.type ?? TEXT,
      name: c.name ?? `channel-${g.channels.length}`,
      position: g.channels.length,
      parent_id: null,
    };
    g.channels.push(channel);
    return channel;
  }

  /** GET /guilds/{guild.id}/channels */
  guildChannels(guildId: string, authorization: string | undefined): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    return this.guarded("channels", guildId, () => {
      const g = this.memberGuild(guildId);
      if (!g) return { status: 403, body: { message: "Missing Access", code: 50001 } };
      return {
        status: 200,
        body: g.channels.map((c) => ({ ...c, guild_id: g.id, nsfw: false, permission_overwrites: [] })),
      };
    });
  }

  /** GET /guilds/{guild.id}/roles */
  guildRoles(guildId: string, authorization: string | undefined): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    return this.guarded("roles", guildId, () => {
      const g = this.memberGuild(guildId);
      if (!g) return { status: 403, body: { message: "Missing Access", code: 50001 } };
      return {
        status: 200,
        body: g.roles.map((r) => ({
          ...r,
          hoist: false,
          mentionable: false,
          flags: 0,
          icon: null,
          unicode_emoji: null,
        })),
      };
    });
  }

  /** DELETE /users/@me/guilds/{guild.id}: 204 No Content. */
  leaveGuild(guildId: string, authorization: string | undefined): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    return this.guarded("leave", guildId, () => {
      if (!this.botGuilds.delete(guildId))
        return { status: 404, body: { message: "Unknown Guild", code: 10004 } };
      this.leaves.push({ guildId, at: Date.now() });
      return { status: 204, body: null };
    });
  }

  /** GET /users/@me: the bot's own user (the operator's health page checks the token with it). */
  currentUser(authorization: string | undefined): DiscordReply {
    const denied = this.unauthorized(authorization);
    if (denied) return denied;
    return this.guarded("me", "", () => ({
      status: 200,
      body: { id: "1100000000000000001", username: "Concierge (sandbox)", bot: true, discriminator: "0" },
    }));
  }

  /**
   * GET /oauth2/authorize: the page where the person picks a server. Each server is a link that
   * plays "Authorize" (the bot joins it) and redirects back with code, state and guild_id.
   */
  authorizePage(query: URLSearchParams, path: string): DiscordReply {
    const problem = this.checkAuthorize(query);
    if (problem) return { status: 400, body: page(`<p>${esc(problem)}</p>`) };
    const pick = query.get("guild_id");
    const guilds = pick && this.guilds.has(pick) ? [this.guilds.get(pick)!] : [...this.guilds.values()];
    const links = guilds
      .map((g) => {
        const q = new URLSearchParams(query);
        q.set("guild_id", g.id);
        return `<li><a href="${esc(`${path}/confirm?${q}`)}">${esc(g.name)}</a></li>`;
      })
      .join("");
    return { status: 200, body: page(`<h1>Add the bot to a server</h1><ul>${links}</ul>`) };
  }

  /** The "Authorize" click: the bot joins the guild and the browser goes back with a code. */
  authorizeConfirm(query: URLSearchParams): DiscordReply {
    const problem = this.checkAuthorize(query);
    if (problem) return { status: 400, body: page(`<p>${esc(problem)}</p>`) };
    const guildId = query.get("guild_id") ?? "";
    if (!this.guilds.has(guildId)) return { status: 400, body: page("<p>Unknown server</p>") };
    const redirectUri = query.get("redirect_uri")!;
    const code = this.issueCode(
      guildId,
      redirectUri,
      query.get("permissions") ?? "0",
      query.get("scope") ?? "bot",
    );
    const back = new URL(redirectUri);
    back.searchParams.set("code", code);
    const state = query.get("state");
    if (state !== null) back.searchParams.set("state", state);
    back.searchParams.set("guild_id", guildId);
    back.searchParams.set("permissions", query.get("permissions") ?? "0");
    return { status: 302, body: "", headers: { location: back.toString() } };
  }

  /** A code as if the person had authorized the bot into `guildId` (the bot joins it). */
  issueCode(
    guildId: string,
    redirectUri: string,
    permissions = "84992",
    scope = "bot applications.commands",
  ): string {
    this.botGuilds.add(guildId);
    const code = `dc-${crypto.randomUUID()}`;
    this.codes.set(code, { guildId, redirectUri, scope, permissions, expiresAt: Date.now() + CODE_TTL_MS });
    return code;
  }

  /** POST /oauth2/token (application/x-www-form-urlencoded, client credentials by Basic or body). */
  token(contentType: string | undefined, authorization: string | undefined, raw: string): DiscordReply {
    const params = new URLSearchParams(raw);
    const code = params.get("code");
    const fail = (status: number, error: string, description: string): DiscordReply => {
      this.tokenRequests.push({ code, ok: false, error: `${error}: ${description}`, at: Date.now() });
      return { status, body: { error, error_description: description } };
    };
    const f = this.takeFault("token", "");
    if (f) {
      this.tokenRequests.push({ code, ok: false, error: `fault ${f.status}`, at: Date.now() });
      return this.faultReply(f);
    }
    if (!contentType?.startsWith("application/x-www-form-urlencoded")) {
      return fail(400, "invalid_request", "Unsupported content type");
    }
    let clientId = params.get("client_id");
    let clientSecret = params.get("client_secret");
    if (authorization?.startsWith("Basic ")) {
      const [id, secret] = atob(authorization.slice(6)).split(":");
      clientId = id ?? null;
      clientSecret = secret ?? null;
    }
    if (
      (this.opts.clientId !== null && clientId !== this.opts.clientId) ||
      (this.opts.clientSecret !== null && clientSecret !== this.opts.clientSecret)
    ) {
      return fail(401, "invalid_client", "Invalid client");
    }
    if (params.get("grant_type") !== "authorization_code")
      return fail(400, "unsupported_grant_type", "Unsupported grant type");
    const c = code ? this.codes.get(code) : undefined;
    if (!code || !c || c.expiresAt < Date.now())
      return fail(400, "invalid_grant", 'Invalid "code" in request.');
    if (params.get("redirect_uri") !== c.redirectUri)
      return fail(400, "invalid_grant", 'Invalid "redirect_uri" in request.');
    this.codes.delete(code);
    const g = this.guilds.get(c.guildId)!;
    this.tokenRequests.push({ code, ok: true, error: null, at: Date.now() });
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        access_token: `dat-${crypto.randomUUID()}`,
        expires_in: 604800,
        refresh_token: `drt-${crypto.randomUUID()}`,
        scope: c.scope,
        guild: {
          id: g.id,
          name: g.name,
          icon: null,
          owner_id: "1200000000000000001",
          roles: g.roles,
          features: [],
          verification_level: 0,
          preferred_locale: "en-US",
        },
      },
    };
  }

  private checkAuthorize(query: URLSearchParams): string | null {
    if (this.opts.clientId !== null && query.get("client_id") !== this.opts.clientId)
      return "Unknown application";
    const scopes = (query.get("scope") ?? "").split(" ");
    if (!scopes.includes("bot")) return "Invalid scope";
    const redirect = query.get("redirect_uri");
    if (query.get("response_type") === "code" && !redirect) return "redirect_uri is required";
    if (!redirect || !URL.canParse(redirect)) return "Invalid redirect_uri";
    return null;
  }

  private channelExists(channelId: string): boolean {
    for (const g of this.guilds.values()) if (g.channels.some((c) => c.id === channelId)) return true;
    // Channels the sandbox does not know (a test's made-up id) behave as existing text channels.
    return /^\d{17,20}$/.test(channelId);
  }

  private memberGuild(guildId: string): DiscordGuild | null {
    return this.botGuilds.has(guildId) ? (this.guilds.get(guildId) ?? null) : null;
  }
}

function wire(m: DiscordMessage): unknown {
  return {
    id: m.id,
    channel_id: m.channelId,
    type: 0,
    content: m.content,
    embeds: m.embeds,
    components: m.components,
    nonce: m.nonce ?? undefined,
    timestamp: new Date(m.at).toISOString(),
    edited_timestamp: m.edits.length ? new Date(m.edits.at(-1)!.at).toISOString() : null,
  };
}

function parseJson(raw: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function invalidForm(detail: string): DiscordReply {
  return { status: 400, body: { message: "Invalid Form Body", code: 50035, errors: { detail } } };
}

type EmbedShape = {
  title?: string;
  description?: string;
  fields?: { name?: string; value?: string }[];
  footer?: { text?: string };
  author?: { name?: string };
};

/** Null when within Discord's limits, otherwise what is over. */
function checkLimits(content: string, embeds: unknown[]): string | null {
  if ([...content].length > LIMITS.content) return "content: Must be 2000 or fewer in length.";
  if (embeds.length > LIMITS.embeds) return "embeds: Must be 10 or fewer in length.";
  let total = 0;
  const len = (s: string | undefined) => (s ? [...s].length : 0);
  for (const raw of embeds) {
    const e = raw as EmbedShape;
    const checks: [number, number, string][] = [
      [len(e.title), LIMITS.title, "title"],
      [len(e.description), LIMITS.description, "description"],
      [len(e.footer?.text), LIMITS.footer, "footer.text"],
      [len(e.author?.name), LIMITS.author, "author.name"],
    ];
    for (const [n, max, what] of checks)
      if (n > max) return `embeds.${what}: Must be ${max} or fewer in length.`;
    const fields = e.fields ?? [];
    if (fields.length > LIMITS.fields) return "embeds.fields: Must be 25 or fewer in length.";
    for (const f of fields) {
      if (!f.name || !f.value) return "embeds.fields: name and value are required.";
      if (len(f.name) > LIMITS.fieldName) return "embeds.fields.name: Must be 256 or fewer in length.";
      if (len(f.value) > LIMITS.fieldValue) return "embeds.fields.value: Must be 1024 or fewer in length.";
    }
    total +=
      len(e.title) +
      len(e.description) +
      len(e.footer?.text) +
      len(e.author?.name) +
      fields.reduce((s, f) => s + len(f.name) + len(f.value), 0);
  }
  if (total > LIMITS.total) return "embeds: Embed size exceeds maximum size of 6000";
  return null;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Discord (sandbox)</title></head><body>${body}</body></html>`;
}

const API = "/discord/api/v10";
const MESSAGES = new RegExp(`^${API}/channels/(\\d+)/messages$`);
const MESSAGE = new RegExp(`^${API}/channels/(\\d+)/messages/(\\d+)$`);
const GUILD_CHANNELS = new RegExp(`^${API}/guilds/(\\d+)/channels$`);
const CHANNEL = new RegExp(`^${API}/channels/(\\d+)$`);
const SANDBOX_GUILD_CHANNELS = /^\/__sandbox\/discord\/guilds\/(\d+)\/channels$/;
const GUILD_ROLES = new RegExp(`^${API}/guilds/(\\d+)/roles$`);
const LEAVE_GUILD = new RegExp(`^${API}/users/@me/guilds/(\\d+)$`);

/**
 * The sandbox's Discord routes: the REST API under /discord/api/v10, the authorize page under
 * /discord/oauth2/authorize, and the test controls under /__sandbox/discord. Null: not a Discord route.
 */
export async function discordRoute(
  discord: FakeDiscord,
  method: string,
  url: URL,
  headers: { authorization?: string; "content-type"?: string },
  readBody: () => Promise<string>,
): Promise<DiscordReply | null> {
  const path = url.pathname;
  const auth = headers.authorization;
  const create = method === "POST" ? MESSAGES.exec(path) : null;
  if (create) return discord.createMessage(create[1]!, auth, await readBody());
  const fetched = method === "GET" ? MESSAGE.exec(path) : null;
  if (fetched) return discord.getMessage(fetched[1]!, fetched[2]!, auth);
  const edit = method === "PATCH" ? MESSAGE.exec(path) : null;
  if (edit) return discord.editMessageRest(edit[1]!, edit[2]!, auth, await readBody());
  const channel = method === "GET" ? CHANNEL.exec(path) : null;
  if (channel) return discord.getChannel(channel[1]!, auth);
  const channels = method === "GET" ? GUILD_CHANNELS.exec(path) : null;
  if (channels) return discord.guildChannels(channels[1]!, auth);
  const roles = method === "GET" ? GUILD_ROLES.exec(path) : null;
  if (roles) return discord.guildRoles(roles[1]!, auth);
  if (method === "GET" && path === `${API}/users/@me`) return discord.currentUser(auth);
  const leave = method === "DELETE" ? LEAVE_GUILD.exec(path) : null;
  if (leave) return discord.leaveGuild(leave[1]!, auth);
  if (method === "POST" && path === `${API}/oauth2/token`) {
    return discord.token(headers["content-type"], auth, await readBody());
  }
  if (method === "GET" && path === "/discord/oauth2/authorize")
    return discord.authorizePage(url.searchParams, path);
  if (method === "GET" && path === "/discord/oauth2/authorize/confirm")
    return discord.authorizeConfirm(url.searchParams);
  if (method === "GET" && path === "/__sandbox/discord") {
    const channel = url.searchParams.get("channel");
    return {
      status: 200,
      body: {
        messages: channel ? discord.messages.filter((x) => x.channelId === channel) : discord.messages,
        leaves: discord.leaves,
        tokenRequests: discord.tokenRequests,
        botGuilds: [...discord.botGuilds],
      },
    };
  }
  if (method === "POST" && path === "/__sandbox/discord/guilds") {
    const g = (parseJson(await readBody()) ?? {}) as { id?: string; name?: string };
    if (g.id !== undefined && !/^\d{17,20}$/.test(g.id)) {
      return {
        status: 400,
        body: { ok: false, error: { code: "invalid", message: "id must be a snowflake" } },
      };
    }
    return { status: 200, body: { ok: true, guild: discord.addGuild(g) } };
  }
  const addTo = method === "POST" ? SANDBOX_GUILD_CHANNELS.exec(path) : null;
  if (addTo) {
    const c = (parseJson(await readBody()) ?? {}) as { name?: string; type?: number };
    const added = discord.addChannel(addTo[1]!, c);
    if (!added)
      return { status: 404, body: { ok: false, error: { code: "not_found", message: "no such guild" } } };
    return { status: 200, body: { ok: true, channel: added } };
  }
  if (method === "POST" && path === "/__sandbox/discord/codes") {
    const c = (parseJson(await readBody()) ?? {}) as { guildId?: string; redirectUri?: string };
    if (!c.guildId || !discord.guilds.has(c.guildId) || !c.redirectUri) {
      return {
        status: 400,
        body: {
          ok: false,
          error: { code: "invalid", message: "a known guildId and redirectUri are required" },
        },
      };
    }
    return { status: 200, body: { ok: true, code: discord.issueCode(c.guildId, c.redirectUri) } };
  }
  if (method === "POST" && path === "/__sandbox/discord/faults") {
    const f = parseJson(await readBody()) as DiscordFault | null;
    if (!f || typeof f.route !== "string" || typeof f.status !== "number") {
      return {
        status: 400,
        body: { ok: false, error: { code: "invalid", message: "route and status are required" } },
      };
    }
    discord.injectFault(f);
    return { status: 200, body: { ok: true } };
  }
  return null;
}
