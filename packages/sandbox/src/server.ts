import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signedMetaRequest, whatsappWebhook } from "@concierge/testing/meta";
import { FakeAi } from "./ai.ts";
import { FakeDiscord } from "./discord.ts";
import { FakeGraph, type Fault } from "./graph.ts";
import { FakeOAuth, type OAuthReply } from "./oauth.ts";
import { customerPage } from "./page.ts";
import { FakePhoneNumbers } from "./phone-numbers.ts";

export type SandboxOptions = {
  port?: number;
  host?: string;
  /** Meta app secret the sandbox signs webhooks with (the same one meta-webhooks verifies). */
  appSecret: string;
  /** Where "send as a customer" posts: meta-webhooks' POST /webhook/whatsapp. */
  whatsappWebhookUrl?: string;
  /** The platform token the fake Graph API expects; null accepts any. */
  graphToken?: string | null;
  /** The bot token the fake Discord API expects; null accepts any. */
  discordToken?: string | null;
  /** The Google OAuth client the fake Google expects; null accepts any. */
  googleClientId?: string | null;
  googleClientSecret?: string | null;
  /** The Facebook app id the fake Facebook Login expects (its secret is `appSecret`); null accepts any. */
  facebookAppId?: string | null;
  /** Phone numbers shown on the customer page. */
  phoneNumbers?: { id: string; display: string; business: string }[];
};

export type Sandbox = {
  url: string;
  /** Value for META_GRAPH_BASE_URL. */
  graphBaseUrl: string;
  graph: FakeGraph;
  ai: FakeAi;
  /** Value for OPENAI_BASE_URL. */
  openAiBaseUrl: string;
  discord: FakeDiscord;
  /** Value for DISCORD_API_BASE_URL. */
  discordBaseUrl: string;
  /** The fake Google OpenID provider (`oauth.google`) and Facebook Login (`oauth.facebook`). */
  oauth: FakeOAuth;
  /** Value for GOOGLE_OAUTH_BASE_URL: the issuer; discovery at /.well-known/openid-configuration. */
  googleBaseUrl: string;
  /** Value for META_DIALOG_BASE_URL (www.facebook.com/vX); the code exchange is on graphBaseUrl. */
  facebookDialogBaseUrl: string;
  setWebhookUrl(url: string): void;
  close(): Promise<void>;
};

const GRAPH_SEND = /^\/graph\/(v\d+\.\d+)\/([^/]+)\/messages$/;
const GRAPH_OAUTH_TOKEN = /^\/graph\/v\d+\.\d+\/oauth\/access_token$/;
const GRAPH_ME = /^\/graph\/v\d+\.\d+\/me$/;
const GRAPH_PHONE_NUMBER = /^\/graph\/v\d+\.\d+\/(\d+)$/;
const FACEBOOK_DIALOG = /^\/facebook\/v\d+\.\d+\/dialog\/oauth$/;
const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const isText = typeof body === "string";
  res.writeHead(status, {
    "content-type": isText ? "text/html; charset=utf-8" : "application/json",
    ...headers,
  });
  res.end(isText ? body : JSON.stringify(body));
}

function reply(res: ServerResponse, r: OAuthReply): void {
  send(res, r.status, r.body, r.headers);
}

/** Starts the sandbox: the fake Graph API, the customer page and its small JSON API. */
export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const graph = new FakeGraph(opts.graphToken ?? null);
  const ai = new FakeAi();
  const discord = new FakeDiscord(opts.discordToken ?? null);
  const oauth = new FakeOAuth({
    googleClientId: opts.googleClientId ?? null,
    googleClientSecret: opts.googleClientSecret ?? null,
    facebookAppId: opts.facebookAppId ?? null,
    facebookAppSecret: opts.appSecret,
  });
  const { google, facebook } = oauth;
  const phones = new FakePhoneNumbers(
    (opts.phoneNumbers ?? []).map((n) => ({
      id: n.id,
      display_phone_number: n.display,
      verified_name: n.business,
    })),
  );
  // Graph honours the platform token and business tokens from an Embedded Signup code exchange.
  const graphTokenOk = (t: string) =>
    opts.graphToken == null || t === opts.graphToken || facebook.knowsToken(t);
  let webhookUrl = opts.whatsappWebhookUrl ?? "";
  const phoneNumbers = opts.phoneNumbers ?? [];

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://sandbox");
      const graphMatch = GRAPH_SEND.exec(url.pathname);
      if (graphMatch && req.method === "POST") {
        const r = graph.handleSend(
          decodeURIComponent(graphMatch[2]!),
          req.headers.authorization,
          await readBody(req),
        );
        return send(res, r.status, r.body, r.headers);
      }
      if (url.pathname === "/openai/v1/chat/completions" && req.method === "POST") {
        const r = await ai.chat(JSON.parse(await readBody(req)));
        return send(res, r.status, r.body);
      }
      if (url.pathname === "/openai/v1/embeddings" && req.method === "POST") {
        const r = ai.embed(JSON.parse(await readBody(req)));
        return send(res, r.status, r.body);
      }
      const discordPost = /^\/discord\/api\/v10\/channels\/([^/]+)\/messages$/.exec(url.pathname);
      if (discordPost && req.method === "POST") {
        const r = discord.createMessage(
          decodeURIComponent(discordPost[1]!),
          req.headers.authorization,
          await readBody(req),
        );
        return send(res, r.status, r.body);
      }
      if (req.method === "GET") {
        const path = url.pathname;
        const query = url.searchParams;
        const auth = req.headers.authorization;
        if (path === "/google/.well-known/openid-configuration") return reply(res, google.discovery());
        if (path === "/google/o/oauth2/v2/auth") return reply(res, google.authorize(query, path));
        if (path === "/google/oauth2/v3/certs") return reply(res, google.jwks());
        if (path === "/google/oauth2/v3/userinfo") return reply(res, google.userinfo(auth));
        if (FACEBOOK_DIALOG.test(path)) return reply(res, facebook.dialog(query, path));
        if (GRAPH_OAUTH_TOKEN.test(path)) return reply(res, facebook.accessToken(query));
        if (GRAPH_ME.test(path)) return reply(res, facebook.me(query, auth));
        const phoneNumber = GRAPH_PHONE_NUMBER.exec(path);
        if (phoneNumber) return reply(res, phones.lookup(phoneNumber[1]!, query, auth, graphTokenOk));
        if (path === "/__sandbox/oauth") return send(res, 200, { tokenRequests: oauth.tokenRequests });
      }
      if (url.pathname === "/google/token" && req.method === "POST") {
        const r = google.token(req.headers["content-type"], req.headers.authorization, await readBody(req));
        return reply(res, r);
      }
      if (url.pathname === "/__sandbox/whatsapp/phone-numbers" && req.method === "POST") {
        const n = JSON.parse(await readBody(req)) as {
          id?: string;
          display_phone_number?: string;
          verified_name?: string;
        };
        if (!n.id || !/^\d+$/.test(n.id) || !n.display_phone_number) {
          return send(res, 400, {
            ok: false,
            error: { code: "invalid", message: "id (digits) and display_phone_number are required" },
          });
        }
        phones.add({
          id: n.id,
          display_phone_number: n.display_phone_number,
          verified_name: n.verified_name ?? "Sandbox Business",
        });
        return send(res, 200, { ok: true });
      }
      // What Embedded Signup's popup hands the page: the session info and a code to exchange.
      if (url.pathname === "/__sandbox/whatsapp/embedded-signup" && req.method === "POST") {
        const n = JSON.parse(await readBody(req)) as { phone_number_id?: string; waba_id?: string };
        if (!n.phone_number_id) {
          return send(res, 400, {
            ok: false,
            error: { code: "invalid", message: "phone_number_id is required" },
          });
        }
        const code = facebook.issueSdkCode(null, { email: "owner@example.com", name: "Sandbox Business" });
        return send(res, 200, {
          code,
          type: "WA_EMBEDDED_SIGNUP",
          event: "FINISH",
          data: { phone_number_id: n.phone_number_id, waba_id: n.waba_id ?? "102290129340398" },
        });
      }
      if (url.pathname === "/__sandbox/oauth/faults" && req.method === "POST") {
        return reply(res, oauth.injectFault(JSON.parse(await readBody(req))));
      }
      if (url.pathname === "/__sandbox/discord" && req.method === "GET")
        return send(res, 200, { messages: discord.messages });
      if (url.pathname === "/__sandbox/ai" && req.method === "GET")
        return send(res, 200, { calls: ai.calls, settings: ai.settings });
      if (url.pathname === "/__sandbox/ai" && req.method === "POST") {
        ai.configure(JSON.parse(await readBody(req)));
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/" && req.method === "GET") return send(res, 200, customerPage(phoneNumbers));
      if (url.pathname === "/__sandbox/sent" && req.method === "GET") {
        const to = url.searchParams.get("to");
        return send(res, 200, {
          sent: to ? graph.sent.filter((s) => s.to === to) : graph.sent,
          // With `to`, only the send requests to that recipient: tests running side by side.
          attempts: to ? (graph.attemptsTo.get(to) ?? 0) : graph.attempts,
        });
      }
      if (url.pathname === "/__sandbox/reads" && req.method === "GET") {
        const message = url.searchParams.get("message");
        return send(res, 200, {
          reads: message ? graph.reads.filter((r) => r.messageId === message) : graph.reads,
        });
      }
      if (url.pathname === "/__sandbox/reset" && req.method === "POST") {
        graph.reset();
        ai.reset();
        oauth.reset();
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/__sandbox/faults" && req.method === "POST") {
        const body = JSON.parse(await readBody(req)) as Fault & { count?: number };
        graph.injectFaults(body, body.count ?? 1);
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/api/whatsapp/send" && req.method === "POST") {
        const input = JSON.parse(await readBody(req)) as {
          phoneNumberId?: string;
          from?: string;
          name?: string;
          text?: string;
        };
        if (!input.phoneNumberId || !input.from || !input.text) {
          return send(res, 400, {
            ok: false,
            error: { code: "invalid", message: "phoneNumberId, from and text are required" },
          });
        }
        const payload = whatsappWebhook([
          {
            phoneNumberId: input.phoneNumberId,
            from: input.from,
            name: input.name ?? "Customer",
            text: input.text,
          },
        ]);
        const signed = await signedMetaRequest(opts.appSecret, payload);
        const r = await fetch(webhookUrl, { method: "POST", headers: signed.headers, body: signed.body });
        const messageId = payload.entry[0]!.changes[0]!.value.messages[0]!.id;
        return send(res, 200, { ok: r.ok, webhookStatus: r.status, messageId });
      }
      return send(res, 404, {
        ok: false,
        error: { code: "not_found", message: `${req.method} ${url.pathname}` },
      });
    } catch (err) {
      return send(res, 500, { ok: false, error: { code: "sandbox_error", message: String(err) } });
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // The issuer names the port, which is known only now; no request can arrive before this runs.
  google.issuer = `${url}/google`;
  return {
    url,
    graphBaseUrl: `${url}/graph/v24.0`,
    graph,
    ai,
    openAiBaseUrl: `${url}/openai/v1`,
    discord,
    discordBaseUrl: `${url}/discord/api/v10`,
    oauth,
    googleBaseUrl: google.issuer,
    facebookDialogBaseUrl: `${url}/facebook/v24.0`,
    setWebhookUrl: (u) => {
      webhookUrl = u;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
