import { hmacSha256Hex, utf8 } from "@concierge/crypto";
import * as v from "valibot";
import type { Identity } from "../users.ts";
import { SignInError } from "./google.ts";

/**
 * Facebook Login: the OAuth dialog with `state`, the code exchanged server-side with the app
 * secret, then the person's id and name from the Graph API (with appsecret_proof, so a leaked
 * token is useless without our secret).
 */

const TokenSchema = v.object({ access_token: v.pipe(v.string(), v.minLength(1)) });
const MeSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^\d+$/)),
  name: v.optional(v.string()),
  email: v.optional(v.string()),
});

export function facebookAuthorizeUrl(env: Env, p: { redirectUri: string; state: string }): string {
  const url = new URL(`${env.META_DIALOG_BASE_URL.replace(/\/$/, "")}/dialog/oauth`);
  url.search = new URLSearchParams({
    client_id: env.FACEBOOK_APP_ID,
    redirect_uri: p.redirectUri,
    state: p.state,
    response_type: "code",
    scope: "public_profile,email",
  }).toString();
  return url.toString();
}

export async function facebookIdentity(
  env: Env,
  p: { code: string; redirectUri: string },
): Promise<Identity> {
  const graph = env.META_GRAPH_BASE_URL.replace(/\/$/, "");
  const exchange = new URL(`${graph}/oauth/access_token`);
  exchange.search = new URLSearchParams({
    client_id: env.FACEBOOK_APP_ID,
    redirect_uri: p.redirectUri,
    client_secret: env.META_APP_SECRET,
    code: p.code,
  }).toString();
  const res = await fetch(exchange);
  if (!res.ok) throw new SignInError(`code exchange answered ${res.status}`);
  const token = v.safeParse(TokenSchema, await res.json());
  if (!token.success) throw new SignInError("no access_token in the exchange");
  const me = new URL(`${graph}/me`);
  me.search = new URLSearchParams({
    fields: "id,name,email",
    appsecret_proof: await hmacSha256Hex(env.META_APP_SECRET, utf8(token.output.access_token)),
  }).toString();
  const meRes = await fetch(me, { headers: { authorization: `Bearer ${token.output.access_token}` } });
  if (!meRes.ok) throw new SignInError(`/me answered ${meRes.status}`);
  const person = v.safeParse(MeSchema, await meRes.json());
  if (!person.success) throw new SignInError("/me returned no id");
  return {
    provider: "facebook",
    subject: person.output.id,
    email: person.output.email ?? null,
    name: person.output.name ?? null,
  };
}
