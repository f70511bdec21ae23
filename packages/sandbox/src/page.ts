const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * The "send as a customer" page: pick a business number, type as a customer, and watch the reply
 * arrive at the fake Graph API. Plain HTML and a little script; works at 375 px.
 */
export function customerPage(numbers: { id: string; display: string; business: string }[]): string {
  const options = numbers
    .map((n) => `<option value="${esc(n.id)}">${esc(n.business)} · ${esc(n.display)}</option>`)
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
</style></head>
<body>
<header><h1>WhatsApp, as a customer</h1><p>Messages are signed like Meta signs them and posted to meta-webhooks. Replies arrive at the fake Graph API.</p></header>
<main>
  <div><label for="to">Business number</label><select id="to">${options}</select></div>
  <div class="who"><div><label for="from">Your WhatsApp id</label><input id="from" value="919800000001" inputmode="numeric"></div>
  <div><label for="name">Your name</label><input id="name" value="Asha"></div></div>
  <div id="log" aria-live="polite"></div>
  <form class="send" id="send"><input id="text" placeholder="Type a message, e.g. what are your hours?" autocomplete="off" required><button>Send</button></form>
</main>
<script>
const $ = (id) => document.getElementById(id);
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
async function poll() {
  try {
    const r = await fetch("/__sandbox/sent?to=" + encodeURIComponent($("from").value));
    const j = await r.json();
    for (const m of j.sent) if (!seen.has(m.id)) { seen.add(m.id); add("them", m.text ?? "[" + m.type + "]"); }
  } catch {}
  setTimeout(poll, 700);
}
fetch("/__sandbox/sent?to=" + encodeURIComponent($("from").value)).then((r) => r.json()).then((j) => { for (const m of j.sent) seen.add(m.id); poll(); });
</script>
</body></html>`;
}
