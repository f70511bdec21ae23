// Cloudflare Access, played locally for the dashboard's /manage panel. In production Access sits
// in front of the Worker: it signs the operator in with the team's identity provider and adds the
// application token (an RS256 JWT) to every request. Here the sandbox is the team domain
// (`<sandbox>/access`): it publishes the certs, offers a sign-in page that asks only for an email,
// and hands the token to the dashboard's local-only /cdn-cgi/access/authorized, which keeps it in
// the CF_Authorization cookie as Access does (the browser cannot add the header itself).
import {
  type AccessJwk as JWK,
  type AccessTokenOptions,
  accessJwks,
  generateAccessKey,
  signAccessToken,
  TEST_ACCESS_AUD,
} from "@concierge/testing/access";

export type AccessReply = { status: number; body: unknown; headers?: Record<string, string> };

const NO_STORE = { "cache-control": "no-store" };
const PREFIX = "/access";
const CERTS = `${PREFIX}/cdn-cgi/access/certs`;
const LOGIN = `${PREFIX}/cdn-cgi/access/login`;
/** Access's tokens live 24 hours by default (the application's session duration). */
const TOKEN_SECONDS = 24 * 3600;
/** Like Cloudflare, the certs carry the current key and the one it replaced. */
const KEYS_PUBLISHED = 2;

export type FakeAccessOptions = {
  /** The application's AUD tag the tokens carry (the dashboard's ACCESS_AUD). */
  aud?: string;
  /** The first signing key (a private JWK with a kid); default: a new one for this process. */
  key?: JWK;
};

export class FakeAccess {
  /** `<sandbox>/access`: the issuer, known once the server listens. */
  teamDomain = "";
  readonly aud: string;
  /** Private keys, oldest first; the last one signs. */
  private keys: JWK[];
  /** While on, the certs answer 500 (Access's endpoint down). */
  failing = false;
  certRequests = 0;
  /** Emails that signed in through the page, for tests. */
  readonly signIns: string[] = [];
  /**
   * The origins the sign-in may send a token to (the dashboard's, known once it runs:
   * `setDashboardUrl`). Access itself only ever returns to its own application's domain; a
   * sign-in naming any other redirect_url is refused, so a link cannot hand the token elsewhere.
   * Empty (nothing configured): every sign-in is refused.
   */
  private dashboardOrigins = new Set<string>();

  private constructor(aud: string, key: JWK) {
    this.aud = aud;
    this.keys = [key];
  }

  static async create(opts: FakeAccessOptions = {}): Promise<FakeAccess> {
    return new FakeAccess(opts.aud ?? TEST_ACCESS_AUD, opts.key ?? (await generateAccessKey()));
  }

  get currentKid(): string {
    return String(this.keys.at(-1)!.kid);
  }

  get publishedKids(): string[] {
    return this.keys.map((k) => String(k.kid));
  }

  /**
   * The dashboard tokens may go to. On this machine the same port answers as 127.0.0.1 and as
   * localhost, so both names are allowed for a loopback URL.
   */
  setDashboardUrl(url: string): void {
    const u = new URL(url);
    const origins = [u.origin];
    for (const [a, b] of [
      ["127.0.0.1", "localhost"],
      ["localhost", "127.0.0.1"],
    ]) {
      if (u.hostname === a) origins.push(`${u.protocol}//${b}${u.port ? `:${u.port}` : ""}`);
    }
    this.dashboardOrigins = new Set(origins);
  }

  /** The dashboard page to return to: an absolute http(s) URL on the dashboard's origin. */
  private dashboardTarget(raw: string | null): URL | null {
    const u = absoluteHttpUrl(raw);
    return u && this.dashboardOrigins.has(u.origin) ? u : null;
  }

  /** A new signing key; the previous one stays published, older ones are dropped (as Access does). */
  async rotate(): Promise<string> {
    this.keys = [...this.keys, await generateAccessKey()].slice(-KEYS_PUBLISHED);
    return this.currentKid;
  }

  /** A token as Access would issue it now, signed with the current key (overrides for tests). */
  issue(opts: Omit<AccessTokenOptions, "iss" | "key"> & { iss?: string }): Promise<string> {
    return signAccessToken({
      aud: this.aud,
      ...opts,
      iss: opts.iss ?? this.teamDomain,
      key: this.keys.at(-1)!,
    });
  }

  /** Forgets faults and counts; keeps the keys, so tokens already issued stay valid. */
  reset(): void {
    this.failing = false;
    this.certRequests = 0;
    this.signIns.length = 0;
  }

  /** Answers the sandbox's Access routes; null for any other path. */
  async handle(method: string, url: URL, readBody: () => Promise<string>): Promise<AccessReply | null> {
    const path = url.pathname;
    if (path === CERTS && method === "GET") {
      this.certRequests += 1;
      if (this.failing) return { status: 500, body: { errors: [{ message: "sandbox: certs failing" }] } };
      return { status: 200, body: accessJwks(this.keys) };
    }
    if (path === LOGIN && method === "GET") {
      const target = this.dashboardTarget(url.searchParams.get("redirect_url"));
      if (!target) return badRedirect();
      return { status: 200, body: loginPage(target.href, ""), headers: NO_STORE };
    }
    if (path === LOGIN && method === "POST") {
      const form = new URLSearchParams(await readBody());
      const target = this.dashboardTarget(form.get("redirect_url"));
      if (!target) return badRedirect();
      const email = (form.get("email") ?? "").trim().toLowerCase();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) {
        return {
          status: 400,
          body: loginPage(target.href, email, "Enter an email address."),
          headers: NO_STORE,
        };
      }
      const token = await this.issue({ email, exp: Math.floor(Date.now() / 1000) + TOKEN_SECONDS });
      this.signIns.push(email);
      // Access lands the browser on the application's own /cdn-cgi/access/authorized, which sets
      // the CF_Authorization cookie for the application's domain and goes on to the page asked for.
      const authorized = new URL("/cdn-cgi/access/authorized", target.origin);
      authorized.search = new URLSearchParams({
        token,
        redirect_url: `${target.pathname}${target.search}`,
      }).toString();
      return { status: 303, body: "", headers: { location: authorized.href, ...NO_STORE } };
    }
    return this.control(method, path, readBody);
  }

  private async control(
    method: string,
    path: string,
    readBody: () => Promise<string>,
  ): Promise<AccessReply | null> {
    if (path === "/__sandbox/access" && method === "GET") {
      return {
        status: 200,
        body: {
          teamDomain: this.teamDomain,
          aud: this.aud,
          kids: this.publishedKids,
          currentKid: this.currentKid,
          failing: this.failing,
          certRequests: this.certRequests,
          signIns: this.signIns,
        },
      };
    }
    if (method !== "POST") return null;
    if (path === "/__sandbox/access/rotate") {
      const kid = await this.rotate();
      return { status: 200, body: { ok: true, currentKid: kid, kids: this.publishedKids } };
    }
    if (path === "/__sandbox/access/fail") {
      const body = parseJson(await readBody());
      this.failing = body?.on !== false;
      return { status: 200, body: { ok: true, failing: this.failing } };
    }
    // A token for tests that cannot sign themselves: the current key, any claims overridden.
    if (path === "/__sandbox/access/token") {
      const body = parseJson(await readBody()) ?? {};
      const token = await this.issue({
        email: typeof body.email === "string" || body.email === null ? body.email : undefined,
        ...pick(body, ["aud", "sub", "iat", "nbf", "exp", "kid", "iss"]),
      } as Omit<AccessTokenOptions, "iss" | "key">);
      return { status: 200, body: { token, kid: this.currentKid } };
    }
    return null;
  }
}

/** An absolute http(s) URL (Access's redirect_url), or null. */
function absoluteHttpUrl(raw: string | null): URL | null {
  try {
    const u = new URL(raw ?? "");
    return u.protocol === "http:" || u.protocol === "https:" ? u : null;
  } catch {
    return null;
  }
}

function parseJson(raw: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(raw || "{}") as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

function badRedirect(): AccessReply {
  return {
    status: 400,
    body: shell(
      "Sign in (sandbox)",
      `<h1>Nothing to sign in to</h1><p>redirect_url must be the absolute URL of a page of the dashboard.</p>`,
    ),
    headers: NO_STORE,
  };
}

// ---- the page: plain HTML, no external resources, fine at 375 px ----

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  *{box-sizing:border-box} body{margin:0;font:16px/1.45 system-ui,sans-serif;background:#f4f4f5;color:#1f1f1f}
  main{max-width:420px;margin:8vh auto 24px;padding:32px 24px;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002}
  .brand{font-weight:600;color:#f38020;margin:0 0 16px} h1{font-size:24px;font-weight:500;margin:0 0 4px}
  p{margin:0 0 20px;color:#444;overflow-wrap:anywhere} label{display:block;font-size:14px;margin:0 0 4px}
  input[type=email]{width:100%;padding:12px;font:inherit;border:1px solid #c4c7c5;border-radius:8px;margin:0 0 16px}
  button{width:100%;padding:12px;font:inherit;font-weight:600;border:0;border-radius:8px;background:#f38020;color:#fff;cursor:pointer}
  .err{color:#b3261e} .note{font-size:12px;color:#666;margin:20px 0 0}
</style></head>
<body><main>
<p class="brand">Cloudflare Access · sandbox</p>
${body}
</main></body></html>`;
}

function loginPage(redirectUrl: string, email: string, error?: string): string {
  return shell(
    "Sign in · Cloudflare Access (sandbox)",
    `<h1>Sign in</h1>
  <p>to ${esc(new URL(redirectUrl).host)}</p>
  <form method="post" action="${LOGIN}">
    <input type="hidden" name="redirect_url" value="${esc(redirectUrl)}">
    ${error ? `<p class="err" role="alert">${esc(error)}</p>` : ""}
    <label for="email">Email</label>
    <input id="email" type="email" name="email" value="${esc(email || "operator@example.com")}" required autocomplete="email">
    <button type="submit">Sign in</button>
  </form>
  <p class="note">Sandbox: any email is let in, no code is sent. In production, Access asks the team's identity provider and its policy decides.</p>`,
  );
}
