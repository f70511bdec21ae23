// The stylesheet and the browser scripts are files in public/assets, served by Workers Static
// Assets (wrangler.jsonc) without running this Worker. Pages link them as /assets/<file>?v=<version>
// and public/_headers lets browsers keep them for a year, so the version must change whenever a
// file does: it is taken from the ETags the assets service gives them (a hash of each file's
// content), read once per isolate through the ASSETS binding.
import { createLogger, errorFields } from "@concierge/core";

const log = createLogger("dashboard");

/** Every file the pages link; the version covers them all. */
const LINKED = [
  "/assets/app.css",
  "/assets/app.js",
  "/assets/whatsapp-signup.js",
  "/assets/checkout.js",
  "/assets/demo.js",
] as const;

/** FNV-1a, base 36: a short, stable token of the files' ETags. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

// Deployed assets never change under a running isolate (a new deployment starts new isolates), so
// the version found once holds for the isolate's life. Only the settled string is kept: a promise
// shared between requests would tie one request's I/O to another's.
let known: string | undefined;

async function lookUp(env: Env): Promise<string> {
  const tags = await Promise.all(
    LINKED.map(async (path) => {
      // The host is ignored: the binding serves this Worker's own assets by path.
      const res = await env.ASSETS.fetch(new Request(`https://assets.invalid${path}`, { method: "HEAD" }));
      const etag = res.headers.get("etag");
      if (!res.ok || !etag)
        throw new Error(`asset ${path}: ${res.status}, etag ${etag ? "present" : "missing"}`);
      return etag;
    }),
  );
  return fingerprint(tags.join(","));
}

/**
 * The version for the asset links. If the assets service cannot say, a fresh random one for this
 * request: a link that misses the cache is slower, one that hits a stale file would be wrong.
 */
export async function assetVersion(env: Env): Promise<string> {
  if (known) return known;
  try {
    known = await lookUp(env);
    return known;
  } catch (err) {
    log.warn("assets.version_unknown", errorFields(err));
    return crypto.randomUUID().slice(0, 8);
  }
}
