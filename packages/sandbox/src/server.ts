import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signedMetaRequest } from "@concierge/testing/meta";
import { FakeAccess } from "./access.ts";
import { FakeAi } from "./ai.ts";
import {
  advances,
  customerPayload,
  parseCustomerMessage,
  parseStatusRequest,
  preview,
  statusPayload,
} from "./customer.ts";
import { type CloudflareFault, FakeCloudflare } from "./cloudflare.ts";
import { discordRoute, FakeDiscord } from "./discord.ts";
import { FakeDiscordInteractions } from "./discord-interactions.ts";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { FakeOutbox } from "./outbox.ts";
import {
  type EmailHandlerTarget,
  buildCustomerEmail,
  deliverToEmailHandler,
  emailPage,
  outboxView,
} from "./email-page.ts";
import { FakeEmbeddedSignup } from "./facebook-sdk.ts";
import { FakeGraph, type Fault, resolveFault } from "./graph.ts";
import { FakeInstagram, type InstagramFault, isSendApiBody } from "./instagram.ts";
import { instagramCustomerPage, sendAsInstagramCustomer } from "./instagram-page.ts";
import { FakeOAuth, type OAuthReply } from "./oauth.ts";
import { DEFAULT_PAGES, FakePages, type PageMode } from "./pages.ts";
import { customerPage } from "./page.ts";
import { FakeOnboarding, FakePhoneNumbers } from "./phone-numbers.ts";
import { FakeRazorpay } from "./razorpay.ts";
import { razorpayRoute } from "./razorpay-routes.ts";

export type SandboxOptions = {
  port?: number;
  host?: string;
  /** Meta app secret the sandbox signs webhooks with (the same one meta-webhooks verifies). */
  appSecret: string;
  /** Where "send as a customer" posts: meta-webhooks' POST /webhook/whatsapp. */
  whatsappWebhookUrl?: string;
  /** Where the Instagram mode posts: meta-webhooks' POST /webhook/instagram. */
  instagramWebhookUrl?: string;
  /** The platform token the fake Graph API expects; null accepts any. */
  graphToken?: string | null;
  /** The bot token the fake Discord API expects; null accepts any. */
  discordToken?: string | null;
  /** The API token the fake Cloudflare API expects; null accepts any. */
  cloudflareToken?: string | null;
  /** The Discord application's OAuth2 client the fake code exchange expects; null accepts any. */
  discordClientId?: string | null;
  discordClientSecret?: string | null;
  /** The Discord application whose interactions the sandbox signs (defaults: the test application). */
  discordApplicationId?: string;
  discordInteractionsPrivateKey?: string;
  /** Where pressed buttons are posted: discord-interactions' POST /interactions. */
  discordInteractionsUrl?: string;
  /** The Google OAuth client the fake Google expects; null accepts any. */
  googleClientId?: string | null;
  googleClientSecret?: string | null;
  /** The Facebook app id the fake Facebook Login expects (its secret is `appSecret`); null accepts any. */
  facebookAppId?: string | null;
  /** Where "email as a customer" delivers: email-inbound's local email() trigger. */
  emailHandler?: EmailHandlerTarget;
  /** The email page's default To (an address on the demo subdomain). */
  emailDemoAddress?: string;
  /** Phone numbers shown on the customer page (Embedded Signup adds a fresh one per signup). */
  phoneNumbers?: { id: string; display: string; business: string }[];
  /** The dashboard that loads the fake Facebook SDK: its signup dialog posts only there (settable later). */
  dashboardUrl?: string;
  /** Razorpay's API key pair: Basic auth of /razorpay/v1 and the key that signs Checkout results (default: TEST_SECRETS'). */
  razorpayKeyId?: string;
  razorpayKeySecret?: string;
  /** The secret Razorpay's webhooks are signed with (the dashboard's RAZORPAY_WEBHOOK_SECRET). */
  razorpayWebhookSecret?: string;
  /** Where Razorpay's webhooks go: the dashboard's POST /webhooks/razorpay (settable later). */
  razorpayWebhookUrl?: string;
  /** Cloudflare Access: the AUD tag its tokens carry (the dashboard's ACCESS_AUD; default the test one). */
  accessAud?: string;
  /** Access's first signing key (a private JWK); default a new one per process. Tests pass the fixed test key. */
  accessKey?: import("@concierge/testing/access").AccessJwk;
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
  /** Discord's interaction webhook, command registration and the signed button presses. */
  discordInteractions: FakeDiscordInteractions;
  /** The fake Google OpenID provider (`oauth.google`) and Facebook Login (`oauth.facebook`). */
  oauth: FakeOAuth;
  /** Value for GOOGLE_OAUTH_BASE_URL: the issuer; discovery at /.well-known/openid-configuration. */
  googleBaseUrl: string;
  /** Value for META_DIALOG_BASE_URL (www.facebook.com/vX); the code exchange is on graphBaseUrl. */
  facebookDialogBaseUrl: string;
  /** Value for the dashboard's FACEBOOK_SDK_URL (Meta's connect.facebook.net/en_US/sdk.js). */
  facebookSdkUrl: string;
  /** Embedded Signup's SDK and dialog; `setDashboardUrl` names the only page it answers. */
  embeddedSignup: FakeEmbeddedSignup;
  setWebhookUrl(url: string): void;
  /** Instagram sends (`/me/messages`), recorded apart from WhatsApp's. */
  instagram: FakeInstagram;
  setInstagramWebhookUrl(url: string): void;
  /** Where the email page delivers (known once the Workers run). */
  setEmailHandler(target: EmailHandlerTarget): void;
  /** Mail the pipeline sent (Cloudflare Email Sending's stand-in). */
  outbox: FakeOutbox;
  /** Value for the pipeline's EMAIL_OUTBOX_URL. */
  emailOutboxUrl: string;
  /** The fake Cloudflare API (Email Routing of the subdomains). */
  cloudflare: FakeCloudflare;
  /** Value for CLOUDFLARE_API_BASE_URL. */
  cloudflareBaseUrl: string;
  /** The fake Razorpay (API, Checkout, webhooks). */
  razorpay: FakeRazorpay;
  /** Value for RAZORPAY_API_BASE_URL (Razorpay's https://api.razorpay.com/v1). */
  razorpayApiBaseUrl: string;
  /** Value for RAZORPAY_CHECKOUT_URL (Razorpay's https://checkout.razorpay.com/v1/checkout.js). */
  razorpayCheckoutUrl: string;
  /** Value for RAZORPAY_HOSTED_CHECKOUT_URL (Razorpay's https://api.razorpay.com/v1/checkout/embedded). */
  razorpayHostedCheckoutUrl: string;
  /** Where Razorpay's webhooks go (known once the dashboard runs). */
  setRazorpayWebhookUrl(url: string): void;
  /** Cloudflare Access for the dashboard's /manage: certs, the sign-in page, tokens. */
  access: FakeAccess;
  /** Value for ACCESS_TEAM_DOMAIN: the issuer; certs at /cdn-cgi/access/certs under it. */
  accessTeamDomain: string;
  close(): Promise<void>;
};

/** How long after a send outside the window its `failed` status (131047) is posted. */
const WINDOW_STATUS_DELAY_MS = 1500;

const GRAPH_SEND = /^\/graph\/(v\d+\.\d+)\/([^/]+)\/messages$/;
const GRAPH_OAUTH_TOKEN = /^\/graph\/v\d+\.\d+\/oauth\/access_token$/;
const GRAPH_ME = /^\/graph\/v\d+\.\d+\/me$/;
const GRAPH_ME_ACCOUNTS = /^\/graph\/v\d+\.\d+\/me\/accounts$/;
const GRAPH_DEBUG_TOKEN = /^\/graph\/v\d+\.\d+\/debug_token$/;
const GRAPH_SUBSCRIBED_APPS = /^\/graph\/v\d+\.\d+\/(\d+)\/subscribed_apps$/;
const GRAPH_PHONE_NUMBER = /^\/graph\/v\d+\.\d+\/(\d+)$/;
const GRAPH_REGISTER = /^\/graph\/v\d+\.\d+\/(\d+)\/register$/;
/** A number's proof of control and release: request_code, verify_code, deregister. */
const GRAPH_NUMBER_EDGE = /^\/graph\/v\d+\.\d+\/(\d+)\/(request_code|verify_code|deregister)$/;
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
  const discord = new FakeDiscord({
    botToken: opts.discordToken ?? null,
    clientId: opts.discordClientId ?? null,
    clientSecret: opts.discordClientSecret ?? null,
  });
  const discordInteractions = new FakeDiscordInteractions(discord, {
    applicationId: opts.discordApplicationId ?? TEST_SECRETS.discordApplicationId,
    privateKeyHex: opts.discordInteractionsPrivateKey ?? TEST_SECRETS.discordPrivateKey,
    botToken: opts.discordToken ?? null,
  });
  discordInteractions.interactionsUrl = opts.discordInteractionsUrl ?? "";
  const outbox = new FakeOutbox();
  const cloudflare = new FakeCloudflare(opts.cloudflareToken ?? null);
  const oauth = new FakeOAuth({
    googleClientId: opts.googleClientId ?? null,
    googleClientSecret: opts.googleClientSecret ?? null,
    facebookAppId: opts.facebookAppId ?? null,
    facebookAppSecret: opts.appSecret,
  });
  const { google, facebook } = oauth;
  // Facebook Pages and their Instagram accounts (pages.ts); page ids never collide with phone ids.
  const pages = new FakePages(opts.facebookAppId ?? null, opts.appSecret, (t) => facebook.userIdOf(t));
  const phones = new FakePhoneNumbers(
    (opts.phoneNumbers ?? []).map((n) => ({
      id: n.id,
      display_phone_number: n.display,
      verified_name: n.business,
    })),
  );
  const onboarding = new FakeOnboarding();
  const embeddedSignup = new FakeEmbeddedSignup({
    facebook,
    phones,
    onboarding,
    appId: opts.facebookAppId ?? null,
  });
  if (opts.dashboardUrl) embeddedSignup.setDashboardUrl(opts.dashboardUrl);
  const access = await FakeAccess.create({ aud: opts.accessAud, key: opts.accessKey });
  const razorpay = new FakeRazorpay({
    keyId: opts.razorpayKeyId ?? TEST_SECRETS.razorpayKeyId,
    keySecret: opts.razorpayKeySecret ?? TEST_SECRETS.razorpayKeySecret,
    webhookSecret: opts.razorpayWebhookSecret ?? TEST_SECRETS.razorpayWebhookSecret,
    webhookUrl: opts.razorpayWebhookUrl ?? "",
  });
  // Graph honours the platform token and business tokens from an Embedded Signup code exchange.
  const graphTokenOk = (t: string) =>
    opts.graphToken == null || t === opts.graphToken || facebook.knowsToken(t);
  let webhookUrl = opts.whatsappWebhookUrl ?? "";
  const instagram = new FakeInstagram();
  let instagramWebhookUrl = opts.instagramWebhookUrl ?? "";
  let emailHandler: EmailHandlerTarget | null = opts.emailHandler ?? null;
  // Meta writes the business number as digits, in metadata and in a reply's `context.from`.
  const displayDigits = (id: string) => phones.get(id)?.display_phone_number.replace(/\D/g, "") || undefined;
  /** Statuses the page played as Meta and meta-webhooks accepted, by our send's wamid. */
  const statuses = new Map<string, { status: string; code?: number }>();
  const postWebhook = async (payload: unknown) => {
    const signed = await signedMetaRequest(opts.appSecret, payload);
    return fetch(webhookUrl, { method: "POST", headers: signed.headers, body: signed.body });
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://sandbox");
      const accessReply = await access.handle(req.method ?? "GET", url, () => readBody(req));
      if (accessReply) return send(res, accessReply.status, accessReply.body, accessReply.headers);
      const razorpayReply = await razorpayRoute(razorpay, req.method ?? "GET", url, req.headers, () =>
        readBody(req),
      );
      if (razorpayReply) {
        // A timeout fault: no answer; the connection is dropped later (or by the client first).
        if ("hangMs" in razorpayReply) {
          setTimeout(() => req.socket.destroy(), razorpayReply.hangMs).unref();
          return;
        }
        return send(res, razorpayReply.status, razorpayReply.body, razorpayReply.headers);
      }
      if (FakeCloudflare.matches(url.pathname)) {
        const raw = req.method === "GET" ? "" : await readBody(req);
        const r = cloudflare.handle(req.method ?? "GET", url.pathname, req.headers.authorization, raw);
        return send(res, r.status, r.body);
      }
      if (url.pathname === "/__sandbox/cloudflare" && req.method === "GET") {
        return send(res, 200, {
          calls: cloudflare.calls,
          rules: [...cloudflare.rules.values()],
          dns: [...cloudflare.dns],
        });
      }
      if (url.pathname === "/__sandbox/cloudflare/faults" && req.method === "POST") {
        cloudflare.addFault(JSON.parse(await readBody(req)) as CloudflareFault);
        return send(res, 200, { ok: true });
      }
      const graphMatch = GRAPH_SEND.exec(url.pathname);
      if (graphMatch && req.method === "POST") {
        const raw = await readBody(req);
        const node = decodeURIComponent(graphMatch[2]!);
        // `/{page-id}/messages` with a Send API body (recipient, no messaging_product): Instagram.
        if (isSendApiBody(raw)) {
          const r = instagram.handleSend(node, req.headers.authorization, raw);
          return send(res, r.status, r.body, r.headers);
        }
        const r = graph.handleSend(node, req.headers.authorization, raw);
        send(res, r.status, r.body, r.headers);
        // Past the customer's 24 hours Meta takes the send, then reports it failed on the webhook.
        const u = r.undeliverable;
        if (u) {
          statuses.set(u.id, { status: "failed", code: u.code });
          const payload = statusPayload(
            {
              messageId: u.id,
              status: "failed",
              code: u.code,
              details: u.details,
              phoneNumberId: u.phoneNumberId,
              recipientId: u.to,
            },
            displayDigits(u.phoneNumberId),
          );
          // Seconds later, as Meta's statuses come: after the sender has recorded its send (a status
          // for a send it has not recorded yet would find nothing to update).
          setTimeout(() => postWebhook(payload).catch(() => {}), WINDOW_STATUS_DELAY_MS).unref();
        }
        return;
      }
      if (url.pathname === "/openai/v1/chat/completions" && req.method === "POST") {
        const r = await ai.chat(await readBody(req));
        return send(res, r.status, r.body);
      }
      if (url.pathname === "/openai/v1/embeddings" && req.method === "POST") {
        const r = ai.embed(JSON.parse(await readBody(req)));
        return send(res, r.status, r.body);
      }
      if (url.pathname === "/email/outbox" && req.method === "POST") {
        const r = outbox.accept(await readBody(req));
        return send(res, r.status, r.body);
      }
      if (url.pathname === "/__sandbox/email/outbox" && req.method === "GET") {
        return send(res, 200, { messages: outbox.to(url.searchParams.get("to")) });
      }
      if (url.pathname === "/__sandbox/email/outbox/parsed" && req.method === "GET") {
        return send(res, 200, { messages: await outboxView(outbox) });
      }
      if (url.pathname === "/email" && req.method === "GET") {
        return send(res, 200, emailPage(opts.emailDemoAddress ?? "hello@demo.cncg.email"));
      }
      if (url.pathname === "/api/email/send" && req.method === "POST") {
        const m = JSON.parse(await readBody(req)) as Parameters<typeof buildCustomerEmail>[0] & {
          raw?: string;
          /** Cloudflare's verdict on the sender: "fail" plays a forged sender. */
          authentication?: string;
        };
        let raw: string;
        try {
          raw = m.raw?.trim() ? m.raw.replace(/\r?\n/g, "\r\n") : buildCustomerEmail(m).raw;
        } catch (err) {
          return send(res, 400, { ok: false, error: { code: "invalid", message: String(err) } });
        }
        const verdict = m.authentication === "fail" ? "fail" : "pass";
        return send(
          res,
          200,
          await deliverToEmailHandler(emailHandler, { from: m.from, to: m.to }, raw, verdict),
        );
      }
      const interactionReply = await discordInteractions.handle(
        req.method ?? "GET",
        url,
        req.headers.authorization,
        () => readBody(req),
      );
      if (interactionReply) return reply(res, interactionReply);
      const discordReply = await discordRoute(discord, req.method ?? "GET", url, req.headers, () =>
        readBody(req),
      );
      if (discordReply) return reply(res, discordReply);
      if (req.method === "GET") {
        const path = url.pathname;
        const query = url.searchParams;
        const auth = req.headers.authorization;
        if (path === "/google/.well-known/openid-configuration") return reply(res, google.discovery());
        if (path === "/google/o/oauth2/v2/auth") return reply(res, google.authorize(query, path));
        if (path === "/google/oauth2/v3/certs") return reply(res, google.jwks());
        if (path === "/google/oauth2/v3/userinfo") return reply(res, google.userinfo(auth));
        if (FACEBOOK_DIALOG.test(path)) return reply(res, facebook.dialog(query, path));
        if (path === "/facebook/sdk.js") return reply(res, embeddedSignup.sdk());
        if (path === "/facebook/embedded-signup") return reply(res, embeddedSignup.dialog(query));
        // Every number the fake Graph API knows, newest first (the customer page's list).
        if (path === "/__sandbox/whatsapp/phone-numbers") return send(res, 200, { numbers: phones.list() });
        if (GRAPH_OAUTH_TOKEN.test(path) && query.get("grant_type") === "fb_exchange_token") {
          return reply(res, pages.exchange(query));
        }
        if (GRAPH_OAUTH_TOKEN.test(path)) return reply(res, facebook.accessToken(query));
        if (GRAPH_ME.test(path)) return reply(res, facebook.me(query, auth));
        if (GRAPH_ME_ACCOUNTS.test(path)) return reply(res, pages.accounts(query, auth));
        if (GRAPH_DEBUG_TOKEN.test(path)) return reply(res, pages.debugToken(query));
        const pageId = GRAPH_PHONE_NUMBER.exec(path)?.[1];
        if (pageId && pages.has(pageId)) return reply(res, pages.page(pageId, query, auth));
        const phoneNumber = GRAPH_PHONE_NUMBER.exec(path);
        if (phoneNumber) return reply(res, phones.lookup(phoneNumber[1]!, query, auth, graphTokenOk));
        if (path === "/__sandbox/oauth") return send(res, 200, { tokenRequests: oauth.tokenRequests });
      }
      if (url.pathname === "/facebook/embedded-signup" && req.method === "POST") {
        return reply(res, embeddedSignup.submit(await readBody(req)));
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
        const wabaId = n.waba_id ?? "102290129340398";
        onboarding.wabas.add(wabaId);
        return send(res, 200, {
          code,
          type: "WA_EMBEDDED_SIGNUP",
          event: "FINISH",
          data: { phone_number_id: n.phone_number_id, waba_id: wabaId },
        });
      }
      if (url.pathname === "/__sandbox/whatsapp/onboarding" && req.method === "GET") {
        return send(res, 200, {
          subscriptions: onboarding.subscriptions,
          registrations: onboarding.registrations.map((r) => ({ phoneNumberId: r.phoneNumberId })),
          deregistrations: onboarding.deregistrations,
          unsubscriptions: onboarding.unsubscriptions,
        });
      }
      // The code request_code "sent" to a number, as its owner would read it off the phone.
      if (url.pathname === "/__sandbox/whatsapp/code" && req.method === "GET") {
        const live = onboarding.codes.get(url.searchParams.get("phone_number_id") ?? "");
        if (!live) {
          return send(res, 404, { ok: false, error: { code: "not_found", message: "No code was sent." } });
        }
        return send(res, 200, { code: live.code, code_method: live.method, language: live.language });
      }
      // The next deregister / unsubscribe calls fail (e.g. a 5xx, to prove the cron's retry).
      if (url.pathname === "/__sandbox/whatsapp/release-faults" && req.method === "POST") {
        const f = JSON.parse(await readBody(req)) as Parameters<typeof onboarding.injectReleaseFault>[0];
        if ((f.target !== "deregister" && f.target !== "unsubscribe") || typeof f.status !== "number") {
          return send(res, 400, {
            ok: false,
            error: { code: "invalid", message: "target (deregister|unsubscribe) and status are required" },
          });
        }
        onboarding.injectReleaseFault(f);
        return send(res, 200, { ok: true });
      }
      const numberEdge = GRAPH_NUMBER_EDGE.exec(url.pathname);
      if (numberEdge && req.method === "POST") {
        const [, id, edge] = numberEdge as unknown as [string, string, string];
        // Graph takes the parameters in the query, a form body or a JSON body.
        const params = new URLSearchParams(url.search);
        const raw = await readBody(req);
        try {
          const json = JSON.parse(raw) as Record<string, unknown>;
          for (const [k, v] of Object.entries(json)) if (typeof v === "string") params.set(k, v);
        } catch {
          for (const [k, v] of new URLSearchParams(raw)) params.set(k, v);
        }
        const auth = req.headers.authorization;
        if (edge === "deregister")
          return reply(res, onboarding.deregister(id, auth, graphTokenOk, phones.has(id)));
        const r =
          edge === "request_code"
            ? onboarding.requestCode(id, params, auth, graphTokenOk, phones.has(id))
            : onboarding.verifyCode(id, params, auth, graphTokenOk, phones.has(id));
        return reply(res, r);
      }
      // A number whose two-step verification already has a PIN: registering needs that PIN.
      if (url.pathname === "/__sandbox/whatsapp/two-step" && req.method === "POST") {
        const n = JSON.parse(await readBody(req)) as { phone_number_id?: string; pin?: string };
        if (!n.phone_number_id || !n.pin) {
          return send(res, 400, {
            ok: false,
            error: { code: "invalid", message: "phone_number_id and pin are required" },
          });
        }
        onboarding.pins.set(n.phone_number_id, n.pin);
        return send(res, 200, { ok: true });
      }
      const register = GRAPH_REGISTER.exec(url.pathname);
      if (register && req.method === "POST") {
        const id = register[1]!;
        return reply(
          res,
          onboarding.register(
            id,
            await readBody(req),
            req.headers.authorization,
            graphTokenOk,
            phones.has(id),
          ),
        );
      }
      const unsubscribe = GRAPH_SUBSCRIBED_APPS.exec(url.pathname);
      if (unsubscribe && req.method === "DELETE" && onboarding.isWaba(unsubscribe[1]!)) {
        return reply(res, onboarding.unsubscribe(unsubscribe[1]!, req.headers.authorization, graphTokenOk));
      }
      const pageUnsubscribe = GRAPH_SUBSCRIBED_APPS.exec(url.pathname);
      if (pageUnsubscribe && req.method === "DELETE" && pages.has(pageUnsubscribe[1]!)) {
        return reply(res, pages.unsubscribe(pageUnsubscribe[1]!, req.headers.authorization));
      }
      const subscribe = GRAPH_SUBSCRIBED_APPS.exec(url.pathname);
      if (subscribe && req.method === "POST") {
        // Graph takes the parameters in the query or in a form body.
        const params = new URLSearchParams(url.search);
        for (const [k, v] of new URLSearchParams(await readBody(req))) params.set(k, v);
        if (onboarding.isWaba(subscribe[1]!)) {
          return reply(res, onboarding.subscribe(subscribe[1]!, req.headers.authorization, graphTokenOk));
        }
        return reply(res, pages.subscribe(subscribe[1]!, params, req.headers.authorization));
      }
      if (url.pathname === "/__sandbox/pages" && req.method === "POST") {
        const p = JSON.parse(await readBody(req)) as {
          id?: string;
          name?: string;
          instagram?: { id: string; username: string } | null;
          mode?: PageMode;
        };
        if (!p.id || !/^\d+$/.test(p.id)) {
          return send(res, 400, {
            ok: false,
            error: { code: "invalid", message: "id (digits) is required" },
          });
        }
        return send(res, 200, { ok: true, page: pages.upsert({ ...p, id: p.id }) });
      }
      // Tokens as if the page had been connected, for tests that skip the login.
      if (url.pathname === "/__sandbox/pages/tokens" && req.method === "POST") {
        const t = JSON.parse(await readBody(req)) as { pageId?: string; expiresInSeconds?: number | null };
        if (!t.pageId) {
          return send(res, 400, { ok: false, error: { code: "invalid", message: "pageId is required" } });
        }
        return send(res, 200, pages.issueForTest(t.pageId, t.expiresInSeconds ?? null));
      }
      if (url.pathname === "/__sandbox/pages/faults" && req.method === "POST") {
        pages.injectFault(JSON.parse(await readBody(req)));
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/__sandbox/pages/subscriptions" && req.method === "GET") {
        const page = url.searchParams.get("page");
        return send(res, 200, {
          subscriptions: page ? pages.subscriptions.filter((s) => s.pageId === page) : pages.subscriptions,
          unsubscriptions: page
            ? pages.unsubscriptions.filter((s) => s.pageId === page)
            : pages.unsubscriptions,
        });
      }
      if (url.pathname === "/__sandbox/oauth/faults" && req.method === "POST") {
        return reply(res, oauth.injectFault(JSON.parse(await readBody(req))));
      }
      if (url.pathname === "/__sandbox/ai" && req.method === "GET")
        return send(res, 200, { calls: ai.calls, settings: ai.settings });
      // The exact bodies of recent chat requests, oldest first; `contains` keeps those whose body
      // has that text (a test's own marker), `kind` the reply (generate) or scan (classify) calls.
      if (url.pathname === "/__sandbox/ai/requests" && req.method === "GET") {
        const contains = url.searchParams.get("contains");
        const kind = url.searchParams.get("kind");
        return send(res, 200, {
          requests: ai.requests.filter(
            (r) => (!contains || r.body.includes(contains)) && (!kind || r.kind === kind),
          ),
        });
      }
      if (url.pathname === "/__sandbox/ai" && req.method === "POST") {
        ai.configure(JSON.parse(await readBody(req)));
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/" && req.method === "GET") return send(res, 200, customerPage(phones.list()));
      if (url.pathname === "/__sandbox/sent" && req.method === "GET") {
        const to = url.searchParams.get("to");
        const sent = to ? graph.sent.filter((s) => s.to === to) : graph.sent;
        return send(res, 200, {
          sent,
          statuses: Object.fromEntries(
            sent.flatMap((s) => (statuses.has(s.id) ? [[s.id, statuses.get(s.id)]] : [])),
          ),
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
      if (url.pathname === "/__sandbox/instagram/sent" && req.method === "GET") {
        const to = url.searchParams.get("to");
        return send(res, 200, {
          sent: to ? instagram.sent.filter((s) => s.to === to) : instagram.sent,
          actions: to ? instagram.actions.filter((a) => a.to === to) : instagram.actions,
          attempts: to ? (instagram.attemptsTo.get(to) ?? 0) : instagram.sent.length,
        });
      }
      if (url.pathname === "/__sandbox/instagram/faults" && req.method === "POST") {
        const body = JSON.parse(await readBody(req)) as InstagramFault & { count?: number };
        instagram.injectFaults(body, body.count ?? 1);
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/api/instagram/send" && req.method === "POST") {
        const input = JSON.parse(await readBody(req)) as Parameters<typeof sendAsInstagramCustomer>[2];
        const r = await sendAsInstagramCustomer(opts.appSecret, instagramWebhookUrl, input);
        return send(res, r.status, r.body);
      }
      if (url.pathname === "/instagram" && req.method === "GET") {
        const accounts = DEFAULT_PAGES.flatMap((p) => (p.instagram ? [p.instagram] : []));
        return send(res, 200, instagramCustomerPage(accounts));
      }
      if (url.pathname === "/__sandbox/reset" && req.method === "POST") {
        graph.reset();
        instagram.reset();
        statuses.clear();
        ai.reset();
        oauth.reset();
        outbox.reset();
        discord.reset();
        discordInteractions.reset();
        cloudflare.reset();
        razorpay.reset();
        access.reset();
        return send(res, 200, { ok: true });
      }
      // Sets when a customer last wrote to a business number, so a test can close (or open) the
      // 24-hour window without waiting a day.
      if (url.pathname === "/__sandbox/whatsapp/window" && req.method === "POST") {
        const b = JSON.parse(await readBody(req)) as Record<string, unknown>;
        if (
          typeof b.phoneNumberId !== "string" ||
          typeof b.customer !== "string" ||
          typeof b.lastMessageAt !== "number" ||
          !Number.isFinite(b.lastMessageAt)
        ) {
          return send(res, 400, {
            ok: false,
            error: {
              code: "invalid",
              message: "phoneNumberId, customer and lastMessageAt (epoch ms) are required.",
            },
          });
        }
        graph.setLastWrote(b.phoneNumberId, b.customer, b.lastMessageAt);
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/__sandbox/faults" && req.method === "POST") {
        const { count, ...body } = JSON.parse(await readBody(req)) as Partial<Fault> & {
          count?: number;
          preset?: string;
        };
        // A preset by name (GRAPH_FAULT_PRESETS: throughput, pair_rate_limit) or a whole fault.
        const fault = resolveFault(body);
        if (!fault)
          return send(res, 400, {
            ok: false,
            error: {
              code: "invalid",
              message: "Unknown preset, or a fault without status, code and message.",
            },
          });
        graph.injectFaults(fault, count ?? 1);
        return send(res, 200, { ok: true });
      }
      if (url.pathname === "/api/whatsapp/send" && req.method === "POST") {
        const input = parseCustomerMessage(JSON.parse(await readBody(req)));
        if (!input.ok)
          return send(res, 400, { ok: false, error: { code: "invalid", message: input.message } });
        const { payload, messageId } = customerPayload(input.value, displayDigits(input.value.phoneNumberId));
        // The customer's 24-hour window opens when they write, by the message's own time.
        const m = input.value;
        graph.customerWrote(m.phoneNumberId, m.from, Date.now() - (m.ageSeconds ?? 0) * 1000);
        const r = await postWebhook(payload);
        return send(res, 200, {
          ok: r.ok,
          webhookStatus: r.status,
          messageId,
          preview: preview(input.value),
        });
      }
      // Plays Meta's delivery status for one of the replies the fake Graph API accepted.
      if (url.pathname === "/api/whatsapp/status" && req.method === "POST") {
        const input = parseStatusRequest(JSON.parse(await readBody(req)));
        if (!input.ok)
          return send(res, 400, { ok: false, error: { code: "invalid", message: input.message } });
        const sent = graph.sent.find((m) => m.id === input.value.messageId);
        if (!sent) {
          return send(res, 404, {
            ok: false,
            error: { code: "not_found", message: "No such reply was sent." },
          });
        }
        const payload = statusPayload(
          { ...input.value, phoneNumberId: sent.phoneNumberId, recipientId: sent.to },
          displayDigits(sent.phoneNumberId),
        );
        const r = await postWebhook(payload);
        const { status, code } = input.value;
        if (r.ok && advances(statuses.get(sent.id)?.status, status)) {
          statuses.set(sent.id, code === undefined ? { status } : { status, code });
        }
        return send(res, 200, {
          ok: r.ok,
          webhookStatus: r.status,
          status,
          ...(code === undefined ? {} : { code }),
        });
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
  razorpay.baseUrl = url;
  embeddedSignup.baseUrl = url;
  access.teamDomain = `${url}/access`;
  return {
    url,
    graphBaseUrl: `${url}/graph/v24.0`,
    graph,
    ai,
    openAiBaseUrl: `${url}/openai/v1`,
    discord,
    discordBaseUrl: `${url}/discord/api/v10`,
    discordInteractions,
    oauth,
    googleBaseUrl: google.issuer,
    facebookDialogBaseUrl: `${url}/facebook/v24.0`,
    facebookSdkUrl: `${url}/facebook/sdk.js`,
    embeddedSignup,
    setWebhookUrl: (u) => {
      webhookUrl = u;
    },
    instagram,
    setInstagramWebhookUrl: (u) => {
      instagramWebhookUrl = u;
    },
    setEmailHandler: (t) => {
      emailHandler = t;
    },
    outbox,
    emailOutboxUrl: `${url}/email/outbox`,
    cloudflare,
    cloudflareBaseUrl: `${url}/cloudflare/client/v4`,
    razorpay,
    razorpayApiBaseUrl: `${url}/razorpay/v1`,
    razorpayCheckoutUrl: `${url}/razorpay/checkout.js`,
    razorpayHostedCheckoutUrl: `${url}/razorpay/v1/checkout/embedded`,
    setRazorpayWebhookUrl: (u) => {
      razorpay.webhooks.url = u;
    },
    access,
    accessTeamDomain: access.teamDomain,
    close: () =>
      new Promise<void>((resolve) => {
        razorpay.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
