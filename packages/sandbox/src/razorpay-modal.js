// The sandbox Checkout's modal, inside the iframe razorpay-checkout.js opens over the merchant's
// page. Pay and Fail make the payment in the sandbox (POST /razorpay/checkout/attempt); the result
// goes to the merchant page's checkout.js by postMessage. Dismiss, the close button and Escape
// dismiss. Opened on its own (not in a frame), it shows the result itself.

const config = JSON.parse(document.getElementById("rzp-config").textContent);
const dialog = document.getElementById("rzp-dialog");
const status = document.getElementById("rzp-status");
const buttons = [...document.querySelectorAll("button[data-outcome]")];
const inFrame = window.parent !== window;

function tell(message) {
  if (inFrame) window.parent.postMessage({ source: "razorpay-sandbox", ...message }, "*");
}

function busy(on) {
  for (const b of buttons) b.disabled = on;
  dialog.setAttribute("aria-busy", on ? "true" : "false");
}

function dismiss() {
  tell({ type: "dismiss" });
  if (!inFrame) status.textContent = "Checkout closed. Nothing was charged.";
}

async function attempt(outcome) {
  busy(true);
  status.textContent = outcome === "pay" ? "Processing the payment…" : "Processing…";
  let res;
  let body;
  try {
    res = await fetch("/razorpay/checkout/attempt", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...config.request, outcome }),
    });
    body = await res.json();
  } catch {
    status.textContent = "The payment service did not answer. Try again.";
    busy(false);
    return;
  }
  if (!res.ok) {
    status.textContent = body?.error?.description ?? "Something went wrong. Try again.";
    busy(false);
    return;
  }
  if (outcome === "pay") {
    status.textContent = "Payment successful.";
    tell({ type: "success", paymentId: body.payment_id, response: body.response });
    if (!inFrame) status.textContent = `Payment successful: ${body.payment_id}`;
    return;
  }
  status.textContent = "Payment failed. You can try again or close this window.";
  busy(false);
  tell({ type: "failed", paymentId: body.payment_id, error: body.error });
}

for (const b of buttons) {
  b.addEventListener("click", () => {
    if (b.dataset.outcome === "dismiss") dismiss();
    else attempt(b.dataset.outcome);
  });
}

document.getElementById("rzp-backdrop").addEventListener("click", (e) => {
  if (e.target === e.currentTarget && config.backdropclose) dismiss();
});

// Escape closes on its keyup, so the frame is not removed while the key is still down.
let escapeDown = false;
document.addEventListener("keyup", (e) => {
  if (e.key === "Escape" && escapeDown) {
    escapeDown = false;
    dismiss();
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && config.escape) {
    e.preventDefault();
    escapeDown = true;
    return;
  }
  // Keep Tab inside the dialog.
  if (e.key !== "Tab") return;
  const focusable = buttons.filter((b) => !b.disabled);
  if (focusable.length === 0) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
});

busy(false);
// Focus starts on Pay (or Close); focusing the frame from the page moves it back there.
const start = buttons.find((b) => b.dataset.outcome === "pay") ?? buttons[0];
start?.focus();
window.addEventListener("focus", () => {
  if (document.activeElement === document.body) start?.focus();
});
tell({ type: "ready" });
