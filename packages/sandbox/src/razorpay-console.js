// The sandbox's /razorpay page: what its Razorpay holds (orders, payments, subscriptions), the
// webhooks it sent, and buttons that play Razorpay (refund, charge, halt, cancel, replay, modes).

const $ = (id) => document.getElementById(id);
const esc = (s) =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
const money = (amount, currency) =>
  `${currency === "INR" ? "₹" : currency === "USD" ? "$" : `${currency} `}${(amount / 100).toFixed(2)}`;
const when = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : "—");
const badge = (s) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;

let keyId = "";
const rendered = {};

function render(id, items, card, empty) {
  const html = items.length ? items.map(card).join("") : `<li class="empty">${esc(empty)}</li>`;
  if (rendered[id] === html) return;
  rendered[id] = html;
  $(id).innerHTML = html;
}

function eventCard(e) {
  const tries = e.deliveries
    .map((d) => `${d.status ?? "no answer"}${d.kind === "send" ? "" : ` (${d.kind})`}`)
    .join(" · ");
  const about = Object.entries(e.refs)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return `<li class="card"><div class="top">${badge(e.state)} <strong>${esc(e.event)}</strong>
    <span class="id">${esc(e.id)}</span></div>
    <div class="meta">${esc(when(e.createdAt))} · ${esc(about)}</div>
    <div class="meta">Deliveries: ${esc(tries || "none yet")}</div>
    <details><summary>Body</summary><pre>${esc(e.body)}</pre></details>
    <div class="actions"><button type="button" data-action="replay" data-id="${esc(e.id)}"
      aria-label="Send event ${esc(e.id)} again">Replay</button></div></li>`;
}

function orderCard(o) {
  return `<li class="card"><div class="top">${badge(o.status)} <strong>${esc(money(o.amount, o.currency))}</strong>
    <span class="id">${esc(o.id)}</span></div>
    <div class="meta">Paid ${esc(money(o.amount_paid, o.currency))} · due ${esc(money(o.amount_due, o.currency))} ·
      ${esc(o.attempts)} attempt(s) · ${esc(when(o.created_at))}${o.receipt ? ` · receipt ${esc(o.receipt)}` : ""}${
        o.subscription_id ? ` · invoice of ${esc(o.subscription_id)}` : ""
      }</div></li>`;
}

function paymentCard(p) {
  const left = p.amount - p.amount_refunded;
  const refundable = (p.status === "captured" || p.status === "refunded") && left > 0;
  const input = `refund-${p.id}`;
  return `<li class="card"><div class="top">${badge(p.status)} <strong>${esc(money(p.amount, p.currency))}</strong>
    <span class="id">${esc(p.id)}</span></div>
    <div class="meta">${p.order_id ? `Order ${esc(p.order_id)}` : ""}${
      p.subscription_id ? ` · subscription ${esc(p.subscription_id)}` : ""
    } · ${esc(when(p.created_at))}${p.amount_refunded ? ` · refunded ${esc(money(p.amount_refunded, p.currency))}` : ""}${
      p.error_description ? ` · ${esc(p.error_description)}` : ""
    }</div>${
      refundable
        ? `<div class="actions"><label for="${esc(input)}" style="margin:0">Refund amount</label>
      <input id="${esc(input)}" inputmode="numeric" size="8" value="${esc(left)}">
      <button type="button" data-action="refund" data-id="${esc(p.id)}">Refund</button></div>`
        : ""
    }</li>`;
}

function subscriptionCard(s) {
  const live = ["created", "authenticated", "active", "pending", "halted"].includes(s.status);
  const button = (to, label) =>
    `<button type="button" data-action="move" data-to="${to}" data-id="${esc(s.id)}">${label}</button>`;
  return `<li class="card"><div class="top">${badge(s.status)} <strong>${esc(s.quantity)} × plan ${esc(s.plan_id)}</strong>
    <span class="id">${esc(s.id)}</span></div>
    <div class="meta">Paid ${esc(s.paid_count)} of ${esc(s.total_count)} · current period ends ${esc(when(s.current_end))}${
      s.status === "created" ? ` · <a href="${esc(s.short_url)}">Open its payment page</a>` : ""
    }</div>${
      live
        ? `<div class="actions">${button("charged", "Charge")}${
            s.status === "active" || s.status === "pending" ? button("pending", "Charge fails (pending)") : ""
          }${s.status === "active" || s.status === "pending" ? button("halted", "Halt") : ""}${button(
            "cancelled",
            "Cancel",
          )}</div>`
        : ""
    }</li>`;
}

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json?.error?.description ?? json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function say(id, text) {
  $(id).textContent = text;
}

async function load() {
  try {
    const state = await (await fetch("/__sandbox/razorpay")).json();
    keyId = state.keyId;
    if (document.activeElement !== $("hook-url") && !$("hook-url").dataset.touched) {
      $("hook-url").value = state.webhookUrl;
    }
    const mode = state.modes["*"] ?? { mode: "normal" };
    if (!$("mode-form").dataset.touched) $("mode").value = mode.mode;
    $("flush").textContent = `Send held events (${state.held})`;
    render("events", state.events, eventCard, "No webhook sent yet.");
    render("orders", state.orders, orderCard, "No order yet.");
    render("payments", state.payments, paymentCard, "No payment yet.");
    render("subscriptions", state.subscriptions, subscriptionCard, "No subscription yet.");
  } catch {}
}

document.body.addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-action]");
  if (!b) return;
  b.disabled = true;
  try {
    if (b.dataset.action === "replay") {
      await post("/__sandbox/razorpay/replay", { eventId: b.dataset.id });
      say("hooks-status", `Sent ${b.dataset.id} again.`);
    } else if (b.dataset.action === "refund") {
      const amount = Number($(`refund-${b.dataset.id}`).value);
      await post("/__sandbox/razorpay/refund", { paymentId: b.dataset.id, amount });
      say("hooks-status", `Refunded ${amount} on ${b.dataset.id}.`);
    } else if (b.dataset.action === "move") {
      await post("/__sandbox/razorpay/subscription", { id: b.dataset.id, to: b.dataset.to });
      say("hooks-status", `Subscription ${b.dataset.id}: ${b.dataset.to}.`);
    }
  } catch (err) {
    say("hooks-status", `Not done: ${err.message}`);
  } finally {
    b.disabled = false;
    load();
  }
});

$("url-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("hook-url").dataset.touched = "";
  try {
    await post("/__sandbox/razorpay/webhook-url", { url: $("hook-url").value });
    delete $("hook-url").dataset.touched;
    say("hooks-status", "Webhook URL saved.");
  } catch (err) {
    say("hooks-status", `Not saved: ${err.message}`);
  }
});
$("hook-url").addEventListener("input", () => {
  $("hook-url").dataset.touched = "1";
});

$("mode-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await post("/__sandbox/razorpay/mode", {
      mode: $("mode").value,
      copies: Number($("copies").value),
      ms: Number($("ms").value),
    });
    delete $("mode-form").dataset.touched;
    say("hooks-status", `Delivery mode: ${$("mode").value}.`);
  } catch (err) {
    say("hooks-status", `Not applied: ${err.message}`);
  }
});
$("mode").addEventListener("change", () => {
  $("mode-form").dataset.touched = "1";
});

$("flush").addEventListener("click", async () => {
  try {
    const r = await post("/__sandbox/razorpay/flush", {});
    say("hooks-status", `Sent ${r.sent} held event(s).`);
  } catch (err) {
    say("hooks-status", `Not sent: ${err.message}`);
  }
  load();
});

$("try").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const order = await post("/__sandbox/razorpay/orders", {
      amount: Number($("try-amount").value),
      currency: $("try-currency").value,
    });
    load();
    const checkout = new window.Razorpay({
      key: keyId,
      order_id: order.id,
      amount: order.amount,
      currency: order.currency,
      name: "Sandbox Store",
      description: "A test order",
      handler: (r) =>
        say("try-status", `Paid: ${r.razorpay_payment_id} (signature ${r.razorpay_signature.slice(0, 12)}…)`),
      modal: { ondismiss: () => say("try-status", "Checkout was dismissed.") },
    });
    checkout.on("payment.failed", (r) => say("try-status", `Payment failed: ${r.error.description}`));
    checkout.open();
  } catch (err) {
    say("try-status", `Could not start: ${err.message}`);
  }
});

load();
setInterval(load, 2000);
