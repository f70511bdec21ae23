import { APP_CSS } from "./assets/app.css.ts";
import { APP_JS } from "./assets/app.js.ts";

/** FNV-1a of the content: the URL changes with the files, so browsers may cache each for a year. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
export const ASSET_VERSION = fingerprint(APP_CSS + APP_JS);

const ASSETS: Record<string, { body: string; type: string }> = {
  "/assets/app.css": { body: APP_CSS, type: "text/css; charset=utf-8" },
  "/assets/app.js": { body: APP_JS, type: "text/javascript; charset=utf-8" },
};

export function serveAsset(path: string): Response | null {
  const asset = ASSETS[path];
  if (!asset) return null;
  return new Response(asset.body, {
    headers: {
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    },
  });
}
