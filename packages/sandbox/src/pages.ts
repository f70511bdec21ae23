import { createHmac, randomBytes } from "node:crypto";
import type { OAuthReply } from "./oauth.ts";

/**
 * The Graph API around Instagram accounts connected through Facebook Login: the long-lived token
 * exchange, `/me/accounts` (pages with their linked Instagram professional account), a page's
 * token (`GET /{page-id}?fields=access_token`), `/debug_token` and
 * `POST /{page-id}/subscribed_apps`, in Graph's wire format. Each page has a mode that decides
 * what /debug_token says about its tokens: valid, expiring (in two days) or invalid.
 */

export type PageMode = "valid" | "expiring" | "invalid" | "revoked";

export type FakePage = {
  id: string;
  name: string;
  instagram: { id: string; username: string } | null;
  mode: PageMode;
};

export type Subscription = { pageId: string; fields: string[]; at: number };

type PageToken = { pageId: string; expiresAt: number; userId: string };
type UserToken = { userId: string; expiresAt: number };

const DAY_S = 24 * 60 * 60;
const LONG_LIVED_S = 60 * DAY_S;
const DATA_ACCESS_S = 90 * DAY_S;
const SCOPES = [
  "instagram_basic",
  "instagram_manage_messages",
  "pages_show_list",
  "pages_manage_metadata",
  "business_management",
  "public_profile",
];

/** Pages every sandbox starts with: one linked to an Instagram account, one without. */
export const DEFAULT_PAGES: FakePage[] = [
  {
    id: "109876543210987",
    name: "Sandbox Café",
    instagram: { id: "17841400000000001", username: "sandbox.cafe" },
    mode: "valid",
  },
  { id: "109876543210988", name: "Sandbox Café Events", instagram: null, mode: "valid" },
];

const now = () => Math.floor(Date.now() / 1000);

export class FakePages {
  private readonly pages = new Map<string, FakePage>();
  private readonly pageTokens = new Map<string, PageToken>();
  private readonly userTokens = new Map<string, UserToken>();
  readonly subscriptions: Subscription[] = [];
  /** DELETE /{page-id}/subscribed_apps calls that succeeded (a deletion's instagram_unsubscribe). */
  readonly unsubscriptions: { pageId: string; at: number }[] = [];
  private faults: { status: number; code: number; subcode?: number; message: string }[] = [];

  private readonly appId: string | null;
  private readonly appSecret: string | null;
  /** The app-scoped user id behind a short-lived user token from Facebook Login, if valid. */
  private readonly shortLivedUser: (token: string) => string | null;

  constructor(
    appId: string | null,
    appSecret: string | null,
    shortLivedUser: (token: string) => string | null,
  ) {
    this.appId = appId;
    this.appSecret = appSecret;
    this.shortLivedUser = shortLivedUser;
    for (const p of DEFAULT_PAGES) this.pages.set(p.id, { ...p });
  }

  has(id: string): boolean {
    return this.pages.has(id);
  }

  /** Adds or changes a page (POST /__sandbox/instagram/pages). */
  upsert(input: Partial<FakePage> & { id: string }): FakePage {
    const old = this.pages.get(input.id);
    const page: FakePage = {
      id: input.id,
      name: input.name ?? old?.name ?? `Page ${input.id}`,
      instagram: input.instagram === undefined ? (old?.instagram ?? null) : input.instagram,
      mode: input.mode ?? old?.mode ?? "valid",
    };
    this.pages.set(page.id, page);
    return page;
  }

  /** The next Graph call here answers this error (POST /__sandbox/instagram/faults). */
  injectFault(f: { status?: number; code?: number; subcode?: number; message?: string }): void {
    this.faults.push({
      status: f.status ?? 400,
      code: f.code ?? 190,
      ...(f.subcode === undefined ? {} : { subcode: f.subcode }),
      message: f.message ?? "Error validating access token: The session has been invalidated.",
    });
  }

  reset(): void {
    this.faults = [];
    this.subscriptions.length = 0;
    this.unsubscriptions.length = 0;
    this.pages.clear();
    for (const p of DEFAULT_PAGES) this.pages.set(p.id, { ...p });
  }

  /** Tokens for tests that skip the login: a long-lived user token and a page token. */
  issueForTest(pageId: string, expiresInSeconds: number | null, userId = "10000000000000001") {
    const userToken = this.newToken("EAAU");
    this.userTokens.set(userToken, { userId, expiresAt: now() + LONG_LIVED_S });
    const pageToken = this.newToken("EAAP");
    this.pageTokens.set(pageToken, {
      pageId,
      userId,
      expiresAt: expiresInSeconds === null ? 0 : now() + expiresInSeconds,
    });
    return { userToken, pageToken };
  }

  private fault(): OAuthReply | null {
    const f = this.faults.shift();
    return f ? graphError(f.status, f.code, f.message, f.subcode) : null;
  }

  private newToken(prefix: string): string {
    return `${prefix}${randomBytes(90).toString("base64url").replace(/[-_]/g, "")}`;
  }

  private appOk(params: URLSearchParams): boolean {
    const id = params.get("client_id");
    const secret = params.get("client_secret");
    return (
      !!id &&
      !!secret &&
      (this.appId === null || id === this.appId) &&
      (this.appSecret === null || secret === this.appSecret)
    );
  }

  private userOf(token: string | null): UserToken | null {
    if (!token) return null;
    const long = this.userTokens.get(token);
    if (long) return long.expiresAt > now() ? long : null;
    const short = this.shortLivedUser(token);
    return short ? { userId: short, expiresAt: now() + 3600 } : null;
  }

  /** GET /oauth/access_token?grant_type=fb_exchange_token: a short-lived user token for a long-lived one. */
  exchange(params: URLSearchParams): OAuthReply {
    const f = this.fault();
    if (f) return f;
    if (!this.appOk(params))
      return graphError(400, 101, "Error validating application. Invalid application ID.");
    const user = this.userOf(params.get("fb_exchange_token"));
    if (!user) return graphError(400, 190, "Invalid OAuth access token - Cannot parse access token");
    const token = this.newToken("EAAU");
    this.userTokens.set(token, { userId: user.userId, expiresAt: now() + LONG_LIVED_S });
    return { status: 200, body: { access_token: token, token_type: "bearer", expires_in: LONG_LIVED_S } };
  }

  /** GET /me/accounts?fields=…: every page, with a page token that does not expire. */
  accounts(params: URLSearchParams, authorization: string | undefined): OAuthReply {
    const f = this.fault();
    if (f) return f;
    const user = this.userOf(bearer(params, authorization));
    if (!user) return graphError(400, 190, "Invalid OAuth access token - Cannot parse access token");
    const fields = (params.get("fields") ?? "id,name")
      .replace(/\{[^}]*\}/g, "")
      .split(",")
      .map((s) => s.trim());
    const data = [...this.pages.values()].map((p) => {
      const row: Record<string, unknown> = { id: p.id };
      if (fields.includes("name")) row.name = p.name;
      if (fields.includes("access_token")) {
        const token = this.newToken("EAAP");
        this.pageTokens.set(token, { pageId: p.id, userId: user.userId, expiresAt: 0 });
        row.access_token = token;
      }
      // Graph leaves the field out when no Instagram account is linked.
      if (fields.includes("instagram_business_account") && p.instagram) {
        row.instagram_business_account = { id: p.instagram.id, username: p.instagram.username };
      }
      return row;
    });
    const cursor = (s: string) => Buffer.from(s).toString("base64url");
    return {
      status: 200,
      body: {
        data,
        paging: {
          cursors: { before: cursor(data[0]?.id as string), after: cursor(data.at(-1)?.id as string) },
        },
      },
    };
  }

  /** GET /{page-id}?fields=access_token with a user token: a fresh page token. */
  page(pageId: string, params: URLSearchParams, authorization: string | undefined): OAuthReply {
    const f = this.fault();
    if (f) return f;
    const token = bearer(params, authorization);
    const user = this.userOf(token);
    if (!user) return graphError(400, 190, "Error validating access token: Session has expired.", 463);
    const proof = params.get("appsecret_proof");
    if (proof !== null && this.appSecret !== null) {
      if (
        proof !==
        createHmac("sha256", this.appSecret)
          .update(token ?? "")
          .digest("hex")
      ) {
        return graphError(400, 100, "Invalid appsecret_proof provided in the API argument");
      }
    }
    const page = this.pages.get(pageId)!;
    if (page.mode === "invalid" || page.mode === "revoked") {
      return graphError(
        400,
        190,
        "Error validating access token: The user has not authorized application.",
        458,
      );
    }
    const body: Record<string, unknown> = { id: page.id };
    const fields = (params.get("fields") ?? "id,name").split(",");
    if (fields.includes("name")) body.name = page.name;
    if (fields.includes("access_token")) {
      const fresh = this.newToken("EAAP");
      this.pageTokens.set(fresh, { pageId, userId: user.userId, expiresAt: 0 });
      body.access_token = fresh;
    }
    return { status: 200, body };
  }

  /** GET /debug_token?input_token=…&access_token={app-id}|{app-secret}. */
  debugToken(params: URLSearchParams): OAuthReply {
    const f = this.fault();
    if (f) return f;
    const [id, secret] = (params.get("access_token") ?? "").split("|");
    if (
      !id ||
      !secret ||
      (this.appId !== null && id !== this.appId) ||
      (this.appSecret !== null && secret !== this.appSecret)
    ) {
      return graphError(400, 190, "Invalid OAuth access token signature.");
    }
    const input = params.get("input_token") ?? "";
    const pageToken = this.pageTokens.get(input);
    const user = this.userTokens.get(input);
    if (!pageToken && !user) {
      return {
        status: 200,
        body: {
          data: {
            is_valid: false,
            error: { code: 190, message: "Invalid OAuth access token - Cannot parse access token" },
            scopes: [],
          },
        },
      };
    }
    const page = pageToken ? this.pages.get(pageToken.pageId) : undefined;
    const base = {
      app_id: this.appId ?? "100000000000001",
      type: pageToken ? "PAGE" : "USER",
      application: "Concierge (sandbox)",
      data_access_expires_at: now() + DATA_ACCESS_S,
      scopes: SCOPES,
      user_id: (pageToken ?? user)!.userId,
      ...(pageToken ? { profile_id: pageToken.pageId } : {}),
    };
    if (page?.mode === "invalid" || page?.mode === "revoked") {
      const subcode = page.mode === "invalid" ? 463 : 458;
      return {
        status: 200,
        body: {
          data: {
            ...base,
            is_valid: false,
            expires_at: now() - DAY_S,
            error: {
              code: 190,
              message:
                subcode === 463
                  ? "Error validating access token: Session has expired."
                  : "Error validating access token: The user has not authorized application.",
              subcode,
            },
          },
        },
      };
    }
    const expiresAt =
      page?.mode === "expiring" ? now() + 2 * DAY_S : (pageToken?.expiresAt ?? user!.expiresAt);
    return {
      status: 200,
      body: { data: { ...base, is_valid: true, issued_at: now(), expires_at: expiresAt } },
    };
  }

  /** POST /{page-id}/subscribed_apps?subscribed_fields=… with the page's token. */
  subscribe(pageId: string, params: URLSearchParams, authorization: string | undefined): OAuthReply {
    const f = this.fault();
    if (f) return f;
    const token = this.pageTokens.get(bearer(params, authorization) ?? "");
    if (!token) return graphError(400, 190, "Invalid OAuth access token - Cannot parse access token");
    if (token.pageId !== pageId) {
      return graphError(400, 210, "(#210) A page access token is required to request this resource.");
    }
    const fields = (params.get("subscribed_fields") ?? "").split(",").filter(Boolean);
    if (!fields.length) {
      return graphError(400, 100, "(#100) The parameter subscribed_fields is required.");
    }
    this.subscriptions.push({ pageId, fields, at: Date.now() });
    return { status: 200, body: { success: true } };
  }

  /**
   * DELETE /{page-id}/subscribed_apps with the page's token: the app stops getting the page's
   * webhooks. Graph answers `{ success: true }` again for a page already unsubscribed.
   */
  unsubscribe(pageId: string, authorization: string | undefined): OAuthReply {
    const f = this.fault();
    if (f) return f;
    const token = this.pageTokens.get(bearer(new URLSearchParams(), authorization) ?? "");
    if (!token) return graphError(400, 190, "Invalid OAuth access token - Cannot parse access token");
    if (token.pageId !== pageId) {
      return graphError(400, 210, "(#210) A page access token is required to request this resource.");
    }
    this.unsubscriptions.push({ pageId, at: Date.now() });
    return { status: 200, body: { success: true } };
  }
}

function bearer(params: URLSearchParams, authorization: string | undefined): string | null {
  return params.get("access_token") ?? /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? "")?.[1] ?? null;
}

function graphError(status: number, code: number, message: string, subcode?: number): OAuthReply {
  return {
    status,
    body: {
      error: {
        message,
        type: "OAuthException",
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        fbtrace_id: `Sandbox${randomBytes(8).toString("base64url")}`,
      },
    },
  };
}
