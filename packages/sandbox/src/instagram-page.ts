import { signedMetaRequest } from "@concierge/testing/meta";
import {
  igAttachment,
  igReel,
  igShare,
  igStoryMention,
  igStoryReply,
  igText,
  instagramEntry,
  instagramPayload,
} from "@concierge/testing/instagram-fixtures";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** What the Instagram mode can send, as `/api/instagram/send` names it. */
export const INSTAGRAM_KINDS = [
  ["text", "Text"],
  ["image", "Photo"],
  ["video", "Video"],
  ["audio", "Voice message"],
  ["file", "File"],
  ["story_reply", "Reply to your story"],
  ["story_mention", "Mention in my story"],
  ["share", "Share a post"],
  ["reel", "Share a reel"],
] as const;
export type InstagramKind = (typeof INSTAGRAM_KINDS)[number][0];

/**
 * The customer page's Instagram mode: DM a connected Instagram account as a customer; the
 * sandbox signs Meta's `object: "instagram"` webhook and posts it to meta-webhooks, and the
 * replies the pipeline sends through the fake Send API show up here. Works at 375 px.
 */
export function instagramCustomerPage(accounts: { id: string; username: string }[]): string {
  const options = accounts.map((a) => `<option value="${esc(a.id)}">@${esc(a.username)}</option>`).join("");
  const kinds = INSTAGRAM_KINDS.map(([v, label]) => `<option value="${v}">${label}</option>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Concierge sandbox · Instagram customer</title>
<style>
  *{box-sizing:border-box} body{margin:0;font:16px/1.4 system-ui,sans-serif;background:#fafafa;color:#111}
  header{background:linear-gradient(90deg,#833ab4,#c13584,#e1306c);color:#fff;padding:12px 16px}
  header h1{font-size:18px;margin:0} header p{margin:4px 0 0;font-size:13px;opacity:.9} header a{color:#fff}
  main{max-width:640px;margin:0 auto;padding:12px;display:flex;flex-direction:column;gap:12px}
  label{font-size:13px;display:block;margin-bottom:4px} select,input{width:100%;padding:8px;font:inherit;border:1px solid #bbb;border-radius:6px}
  .who{display:grid;grid-template-columns:1fr 1fr;gap:8px}
  #log{min-height:240px;background:#fff;border-radius:8px;padding:8px;display:flex;flex-direction:column;gap:6px;overflow-wrap:anywhere}
  .b{max-width:85%;padding:6px 10px;border-radius:16px;white-space:pre-wrap}
  .me{align-self:flex-end;background:#3797f0;color:#fff} .them{align-self:flex-start;background:#efefef} .sys{align-self:center;font-size:12px;color:#555}
  form.send{display:flex;flex-wrap:wrap;gap:8px} form.send input{flex:1 1 200px} form.send select{flex:0 1 180px}
  button{padding:8px 16px;font:inherit;border:0;border-radius:6px;background:#c13584;color:#fff}
</style></head>
<body>
<header><h1>Instagram, as a customer</h1><p>DMs are signed like Meta signs them and posted to meta-webhooks' /webhook/instagram. Replies arrive at the fake Send API. <a href="/">WhatsApp mode</a> · <a href="/razorpay">Razorpay</a></p></header>
<main>
  <div class="who"><div><label for="to">Business account (Instagram id)</label><input id="to" list="accounts" value="${esc(accounts[0]?.id ?? "")}" inputmode="numeric">
    <datalist id="accounts">${options}</datalist></div>
  <div><label for="from">Your Instagram-scoped id</label><input id="from" value="1780000000000001" inputmode="numeric"></div></div>
  <div id="log" aria-live="polite"></div>
  <form class="send" id="send"><select id="kind" aria-label="Message kind">${kinds}</select>
    <input id="text" placeholder="Type a message, e.g. what are your hours?" autocomplete="off" aria-label="Message"><button>Send</button></form>
</main>
<script>
const $ = (id) => document.getElementById(id);
const seen = new Set();
function add(cls, text) { const d = document.createElement("div"); d.className = "b " + cls; d.textContent = text; $("log").append(d); }
$("send").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value, type = $("kind").value;
  if (type === "text" && !text) return;
  const r = await fetch("/api/instagram/send", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ accountId: $("to").value, from: $("from").value, type, text }) });
  const j = await r.json();
  add("me", j.preview ?? text);
  $("text").value = "";
  if (!j.ok) add("sys", j.error?.message ?? "webhook answered " + (j.webhookStatus ?? r.status));
});
async function poll() {
  try {
    const r = await fetch("/__sandbox/instagram/sent?to=" + encodeURIComponent($("from").value));
    const j = await r.json();
    for (const m of j.sent) if (!seen.has(m.id)) { seen.add(m.id); add("them", m.text + (m.tag ? " (" + m.tag + ")" : "")); }
  } catch {}
  setTimeout(poll, 700);
}
fetch("/__sandbox/instagram/sent?to=" + encodeURIComponent($("from").value)).then((r) => r.json()).then((j) => { for (const m of j.sent) seen.add(m.id); poll(); });
</script>
</body></html>`;
}

const PREVIEW: Record<Exclude<InstagramKind, "text">, string> = {
  image: "[photo]",
  video: "[video]",
  audio: "[voice message]",
  file: "[file]",
  story_reply: "[replied to your story]",
  story_mention: "[mentioned you in their story]",
  share: "[shared a post]",
  reel: "[shared a reel]",
};

/** One customer DM of the chosen kind, as Meta's webhook event for it. */
function customerEvent(kind: InstagramKind, from: string, to: string, text: string) {
  const c = { from, to };
  switch (kind) {
    case "text":
      return igText({ ...c, text });
    case "image":
    case "video":
    case "audio":
    case "file":
      return igAttachment({ ...c, type: kind, ...(text ? { text } : {}) });
    case "story_reply":
      return igStoryReply({ ...c, text: text || "Love this!" });
    case "story_mention":
      return igStoryMention(c);
    case "share":
      return igShare(c);
    case "reel":
      return igReel(c);
  }
}

/**
 * `POST /api/instagram/send`: signs Meta's `object: "instagram"` webhook for one DM and posts it
 * to meta-webhooks, as Meta would.
 */
export async function sendAsInstagramCustomer(
  appSecret: string,
  webhookUrl: string,
  input: { accountId?: string; from?: string; type?: string; text?: string },
): Promise<{ status: number; body: unknown }> {
  const kind = (input.type ?? "text") as InstagramKind;
  if (!input.accountId || !input.from || !INSTAGRAM_KINDS.some(([k]) => k === kind)) {
    return {
      status: 400,
      body: {
        ok: false,
        error: { code: "invalid", message: "accountId, from and a known type are required" },
      },
    };
  }
  if (kind === "text" && !input.text) {
    return { status: 400, body: { ok: false, error: { code: "invalid", message: "text is required" } } };
  }
  const text = input.text ?? "";
  const event = customerEvent(kind, input.from, input.accountId, text);
  const signed = await signedMetaRequest(appSecret, instagramPayload(instagramEntry(input.accountId, event)));
  const r = await fetch(webhookUrl, { method: "POST", headers: signed.headers, body: signed.body });
  const preview = kind === "text" ? text : [PREVIEW[kind], text].filter(Boolean).join(" ");
  return { status: 200, body: { ok: r.ok, webhookStatus: r.status, messageId: event.message.mid, preview } };
}
