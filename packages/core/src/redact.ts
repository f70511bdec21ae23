/**
 * Query values out of logged URLs. A URL's query carries one-time secrets here and there: the
 * forward-address link's `token`, OAuth's `code` and `state`, Meta's `hub.verify_token`, a Graph
 * call's `access_token`. The keys stay (they say what the request was), every value becomes
 * `[redacted]`, and so does a fragment (implicit OAuth flows put tokens there). The logger runs
 * every string field through `redactUrls`, so no call site can forget it.
 */

export const REDACTED = "[redacted]";

/** One query string (without its `?`): each `key=value` keeps its key; a bare part goes whole. */
function redactQuery(query: string): string {
  if (query === "") return "";
  return query
    .split(/[&;]/)
    .map((part) => {
      if (part === "") return "";
      const eq = part.indexOf("=");
      return eq === -1 ? REDACTED : `${part.slice(0, eq)}=${REDACTED}`;
    })
    .join("&");
}

/**
 * A URL (absolute, or a path with a query) as it may be logged: scheme, host and path as given,
 * every query value and any fragment replaced. `https://x/email/verify?token=abc#f` →
 * `https://x/email/verify?token=[redacted]#[redacted]`.
 */
export function redactUrl(url: string | URL): string {
  const s = String(url);
  const hash = s.indexOf("#");
  const beforeHash = hash === -1 ? s : s.slice(0, hash);
  const q = beforeHash.indexOf("?");
  const base = q === -1 ? beforeHash : beforeHash.slice(0, q);
  const query = q === -1 ? null : redactQuery(beforeHash.slice(q + 1));
  return `${base}${query === null ? "" : `?${query}`}${hash === -1 ? "" : `#${REDACTED}`}`;
}

// A query (or fragment) inside free text: from `?` or `#` up to whitespace, a quote or an angle
// bracket, the characters a parsed URL's query never holds raw (WHATWG URL percent-encodes them),
// so a request URL's query ends there only where it really ends.
const QUERY_IN_TEXT = /([?#])([^\s"'<>]*)/g;

/**
 * Every URL query and fragment inside a string redacted, wherever it sits (a field that is a URL,
 * an error message that quotes one). Text without `?` or `#` comes back as it was.
 */
export function redactUrls(text: string): string {
  if (!text.includes("?") && !text.includes("#")) return text;
  return text.replace(QUERY_IN_TEXT, (_m, mark: string, rest: string) => {
    if (rest === "") return mark;
    if (mark === "#") return `#${REDACTED}`;
    const hash = rest.indexOf("#");
    const query = hash === -1 ? rest : rest.slice(0, hash);
    return `?${redactQuery(query)}${hash === -1 ? "" : `#${REDACTED}`}`;
  });
}
