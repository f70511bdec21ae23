import type { ListedPhoneNumber, PhoneNumberSource } from "./phone-numbers.ts";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** How the number list labels a number: business, number, and where it came from. */
export function numberLabel(n: ListedPhoneNumber): string {
  return `${n.verified_name} · ${n.display_phone_number}${SOURCE_LABEL[n.source]}`;
}

const SOURCE_LABEL: Record<PhoneNumberSource, string> = {
  embedded_signup: " · new (Embedded Signup)",
  configured: " · demo",
  added: "",
};

/**
 * The "send as a customer" page: pick a business number (every number the fake Graph API knows,
 * the newest first and chosen by default, so a number just connected through Embedded Signup is
 * the one written to), type as a customer, and watch the reply arrive at the fake Graph API.
 * Plain HTML and a little script; works at 375 px.
 */
export function customerPage(numbers: ListedPhoneNumber[]): string {
  const options = numbers
    .map(
      (n, i) => `<option value="${esc(n.id)}"${i === 0 ? " selected" : ""}>${esc(numberLabel(n))}</option>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Concierge sandbox · WhatsApp customer</title>
<style>
  *{box-sizing:border-box} body{margin:0;font:16px/1.4 system-ui,sans-serif;background:#efeae2;color:#111}
  header{background:#075e54;color:#fff;padding:12px 16px} header h1{font-size:18px;margin:0}
  header p{margin:4px 0 0;font-size:13px;opacity:.85}
  main{max-width:640px;margin:0 auto;padding:12px;display:flex;flex-direction:column;gap:12px}
  label{font-size:13px;display:block;margin-bottom:4px} select,input{width:100%;padding:8px;font:inherit;border:1px solid #bbb;border-radius:6px}
  .who{display:grid;grid-template-columns:1fr 1fr;gap:8px}
  #log{min-height:240px;background:#fff8;border-radius:8px;padding:8px;display:flex;flex-direction:column;gap:6px;overflow-wrap:anywhere}
  .b{max-width:85%;padding:6px 10px;border-radius:8px;white-space:pre-wrap}
  .me{align-self:flex-end;background:#d9fdd3} .them{align-self:flex-start;background:#fff} .sys{align-self:center;font-size:12px;color:#555}
  form.send{display:flex;gap:8px} form.send input{flex:1} button{padding:8px 16px;font:inherit;border:0;border-radius:6px;background:#128c7e;color:#fff}
  [hidden]{display:none!important} details{background:#fff8;border-radius:8px;padding:8px} summary{cursor:pointer;font-size:14px;font-weight:600}
  .more{display:flex;flex-direction:column;gap:8px;margin-top:8px} .hint{font-size:13px;color:#555;margin:0}
  .row{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}
  .st{align-self:flex-start;display:flex;flex-wrap:wrap;align-items:center;gap:4px;font-size:12px;color:#555;margin-top:-2px}
  .st button{padding:4px 10px;font-size:12px;background:#fff;color:#075e54;border:1px solid #128c7e}
  .st .state.read{color:#027eb5;font-weight:600} .st .state.failed{color:#b00020;font-weight:600}
</style></head>
<body>
<header><h1>WhatsApp, as a customer</h1><p>Messages are signed like Meta signs them and posted to meta-webhooks. Replies arrive at the fake Graph API. <a href="/instagram" style="color:#fff">Instagram mode</a> · <a href="/razorpay" style="color:#fff">Razorpay</a></p></header>
<main>
  <div><label for="to">Business number</label><select id="to">${options}</select></div>
  <div class="who"><div><label for="from">Your WhatsApp id</label><input id="from" value="919800000001" inputmode="numeric"></div>
  <div><label for="name">Your name</label><input id="name" value="Asha"></div></div>
  <div id="log" aria-live="polite"></div>
  <form class="send" id="send"><input id="text" placeholder="Type a message, e.g. what are your hours?" autocomplete="off" required><button>Send</button></form>
  <details id="wa-more"><summary>More message types</summary>
  <form class="more" id="more">
    <div><label for="kind">Message type</label><select id="kind">
      <option value="image">Photo</option><option value="video">Video</option><option value="audio">Voice message</option>
      <option value="document">Document</option><option value="sticker">Sticker</option><option value="location">Location</option>
      <option value="contacts">Contact card</option><option value="button_reply">Button reply</option>
      <option value="list_reply">List reply</option><option value="reaction">Reaction to the last reply</option>
      <option value="unsupported">Unsupported (e.g. an edit)</option></select></div>
    <div data-for="image video document"><label for="caption">Caption (optional)</label><input id="caption" autocomplete="off"></div>
    <div data-for="document"><label for="filename">File name</label><input id="filename" value="menu-request.pdf"></div>
    <div data-for="location" class="who"><div><label for="lat">Latitude</label><input id="lat" value="12.9756" inputmode="decimal"></div>
      <div><label for="lng">Longitude</label><input id="lng" value="77.6068" inputmode="decimal"></div></div>
    <div data-for="location"><label for="place">Place name (optional)</label><input id="place" value="MG Road"></div>
    <div data-for="contacts" class="who"><div><label for="cname">Contact name</label><input id="cname" value="Ravi Kumar"></div>
      <div><label for="cphone">Contact phone</label><input id="cphone" value="+91 98450 00002" inputmode="tel"></div></div>
    <div data-for="button_reply list_reply"><label for="title">Title you tap</label><input id="title" list="titles" maxlength="24" value="Book a table">
      <datalist id="titles"><option value="Book a table"><option value="Opening hours"><option value="See the menu"><option value="Talk to a person"></datalist></div>
    <div data-for="reaction"><label for="emoji">Reaction</label><select id="emoji"><option>👍</option><option>❤️</option><option>😂</option><option>😮</option><option>🙏</option></select></div>
    <div><label for="age">Written this many hours ago</label><input id="age" type="number" min="0" max="168" step="1" value="0" inputmode="numeric">
      <p class="hint">Meta retries a webhook for days: past 24 hours the business may send no free-form reply (error 131047).</p></div>
    <p class="hint" data-for="audio sticker">A fake media id is sent; nothing is uploaded.</p>
    <p class="hint" data-for="button_reply list_reply reaction">Replies to the business's last message.</p>
    <div><button id="share">Share</button></div>
  </form></details>
  <details id="wa-meta"><summary>Play Meta: delivery statuses and faults</summary>
    <p class="hint">Each reply has buttons to mark it delivered, read or failed; Meta's signed status webhook goes to meta-webhooks.</p>
    <div style="margin-top:8px"><label for="fail-code">Error code when marking failed</label><input id="fail-code" value="131026" inputmode="numeric"></div>
    <div class="row" role="group" aria-label="Make the business's next reply fail">
      <button type="button" data-fault="throttle">Next reply: 429</button><button type="button" data-fault="server">Next reply: 500</button>
      <button type="button" data-fault="permanent">Next reply: permanent error</button>
      <button type="button" data-fault="pair">Next reply: pair rate limit (131056)</button></div>
  </details>
</main>
<script>
const $ = (id) => document.getElementById(id);
// Numbers connected while this page is open (a signup in another tab) join the list; the newest
// is chosen unless the person picked one themselves.
let pickedNumber = false;
$("to").addEventListener("change", () => { pickedNumber = true; });
const LABEL = ${JSON.stringify(SOURCE_LABEL)};
async function refreshNumbers() {
  try {
    const { numbers } = await (await fetch("/__sandbox/whatsapp/phone-numbers")).json();
    const known = new Set([...$("to").options].map((o) => o.value));
    if (numbers.every((n) => known.has(n.id)) && numbers.length === known.size) return;
    const chosen = $("to").value;
    $("to").replaceChildren(...numbers.map((n) => new Option(n.verified_name + " · " + n.display_phone_number + (LABEL[n.source] ?? ""), n.id)));
    $("to").value = pickedNumber && numbers.some((n) => n.id === chosen) ? chosen : numbers[0]?.id ?? "";
  } catch {}
}
setInterval(refreshNumbers, 3000);
window.addEventListener("focus", refreshNumbers);
const seen = new Set();
function add(cls, text) { const d = document.createElement("div"); d.className = "b " + cls; d.textContent = text; $("log").append(d); }
$("send").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value; if (!text) return;
  add("me", text); $("text").value = "";
  const r = await fetch("/api/whatsapp/send", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumberId: $("to").value, from: $("from").value, name: $("name").value, text }) });
  const j = await r.json();
  if (!j.ok) add("sys", "webhook answered " + (j.webhookStatus ?? r.status));
});
// WhatsApp's other message types, statuses and faults: the sandbox builds and signs each payload.
let lastReply = null;
const STATE = { sent: "✓ sent", delivered: "✓✓ delivered", read: "✓✓ read" };
function showStatus(id, s) {
  const el = document.querySelector('.st[data-id="' + CSS.escape(id) + '"] .state');
  if (!el) return;
  el.textContent = s.status === "failed" ? "⚠ failed " + (s.code ?? "") : STATE[s.status] ?? s.status;
  el.className = "state " + s.status;
}
function addStatusRow(id) {
  lastReply = id;
  const row = document.createElement("div"); row.className = "st"; row.dataset.id = id;
  const state = document.createElement("span"); state.className = "state sent"; state.textContent = STATE.sent;
  state.setAttribute("role", "status"); row.append(state);
  for (const status of ["delivered", "read", "failed"]) {
    const b = document.createElement("button"); b.type = "button"; b.textContent = status[0].toUpperCase() + status.slice(1);
    b.setAttribute("aria-label", "Mark this reply " + status);
    b.addEventListener("click", () => markStatus(id, status));
    row.append(b);
  }
  $("log").append(row);
}
async function markStatus(messageId, status) {
  const body = { messageId, status };
  if (status === "failed") body.code = $("fail-code").value;
  const r = await fetch("/api/whatsapp/status", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const j = await r.json();
  if (j.ok) showStatus(messageId, j); else add("sys", j.error?.message ?? "webhook answered " + (j.webhookStatus ?? r.status));
}
function showFields() {
  for (const el of document.querySelectorAll("#more [data-for]")) el.hidden = !el.dataset.for.split(" ").includes($("kind").value);
}
$("kind").addEventListener("change", showFields); showFields();
$("more").addEventListener("submit", async (e) => {
  e.preventDefault();
  const type = $("kind").value;
  const body = { phoneNumberId: $("to").value, from: $("from").value, name: $("name").value, type,
    caption: $("caption").value, filename: $("filename").value, latitude: $("lat").value, longitude: $("lng").value,
    place: $("place").value, contactName: $("cname").value, contactPhone: $("cphone").value, title: $("title").value, emoji: $("emoji").value,
    ageSeconds: Math.round(Number($("age").value || 0) * 3600) };
  if (["button_reply", "list_reply", "reaction"].includes(type) && lastReply) body.contextId = lastReply;
  if (type === "reaction" && !lastReply) return add("sys", "No reply to react to yet.");
  const r = await fetch("/api/whatsapp/send", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const j = await r.json();
  if (j.preview) add("me", j.preview);
  if (!j.ok) add("sys", j.error?.message ?? "webhook answered " + (j.webhookStatus ?? r.status));
  $("caption").value = "";
});
const FAULTS = {
  throttle: { status: 429, code: 130429, message: "(#130429) Rate limit hit", details: "Cloud API message throughput has been reached.", retryAfter: 2 },
  server: { status: 500, code: 131000, message: "(#131000) Something went wrong", details: "Something went wrong." },
  // Meta's pair rate limit (one business number to one user), as the server's preset sends it.
  pair: { preset: "pair_rate_limit" },
  permanent: { status: 400, code: 131026, message: "(#131026) Message undeliverable", details: "Message undeliverable." },
};
for (const b of document.querySelectorAll("[data-fault]")) b.addEventListener("click", async () => {
  // Only replies to this customer fail, so other people at the sandbox are not affected.
  await fetch("/__sandbox/faults", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...FAULTS[b.dataset.fault], to: $("from").value }) });
  add("sys", "The next reply will fail: " + b.textContent.replace("Next reply: ", ""));
});
async function poll() {
  try {
    const r = await fetch("/__sandbox/sent?to=" + encodeURIComponent($("from").value));
    const j = await r.json();
    for (const m of j.sent) if (!seen.has(m.id)) { seen.add(m.id); add("them", m.text ?? "[" + m.type + "]"); addStatusRow(m.id); }
    for (const [id, s] of Object.entries(j.statuses ?? {})) showStatus(id, s);
  } catch {}
  setTimeout(poll, 700);
}
fetch("/__sandbox/sent?to=" + encodeURIComponent($("from").value)).then((r) => r.json()).then((j) => { for (const m of j.sent) seen.add(m.id); poll(); });
</script>
</body></html>`;
}
