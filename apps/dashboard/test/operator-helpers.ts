// What the operator panel's tests share: an operator let in by the sandbox's Cloudflare Access
// (a token signed with the test key its certs publish), and requests carrying it.
import { env } from "cloudflare:workers";
import { type AccessTokenOptions, accessTeamDomain, signAccessToken } from "@concierge/testing/access";
import { operatorCsrfFor } from "../src/access.ts";
import { app, ORIGIN } from "./helpers.ts";

export type TestOperator = {
  email: string;
  token: string;
  /** The CSRF token the panel's forms carry for this token (`_csrf`). */
  csrf: string;
  headers: Record<string, string>;
};

/** A token as the sandbox's Access issues it (good unless `opts` says otherwise). */
export function operatorToken(opts: Partial<AccessTokenOptions> = {}): Promise<string> {
  return signAccessToken({ iss: accessTeamDomain(env.SANDBOX_URL), ...opts });
}

let n = 0;
/** An operator with a valid Access token (a new email each time unless given). */
export async function signInOperator(
  opts: Partial<AccessTokenOptions> & { email?: string } = {},
): Promise<TestOperator> {
  n += 1;
  const email = opts.email ?? `operator${n}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const token = await operatorToken({ ...opts, email });
  return {
    email,
    token,
    csrf: await operatorCsrfFor(token.split(".")[2]!),
    headers: { "cf-access-jwt-assertion": token },
  };
}

/** GET (or anything) as the operator. */
export function asOperator(op: TestOperator | null, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (op) for (const [k, v] of Object.entries(op.headers)) headers.set(k, v);
  return app(path, { ...init, headers });
}

/** A form POST from the panel's own page: our origin, the operator's token and `_csrf`. */
export function postAsOperator(
  op: TestOperator | null,
  path: string,
  fields: Record<string, string>,
  opts: { csrf?: string | null; origin?: string | null } = {},
): Promise<Response> {
  const form = new URLSearchParams(fields);
  const csrf = opts.csrf === undefined ? op?.csrf : opts.csrf;
  if (csrf !== null && csrf !== undefined) form.set("_csrf", csrf);
  const origin = opts.origin === undefined ? ORIGIN : opts.origin;
  return asOperator(op, path, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(origin === null ? {} : { origin }),
    },
    body: form,
  });
}
