// Razorpay Checkout on the checkout pages (/admin/billing/checkout/…, /admin/email/subscription/
// checkout/…). Without JavaScript the page's form posts its fields to Razorpay's hosted checkout.
// With it, and once Razorpay's checkout.js has defined window.Razorpay, the same fields open
// Checkout's modal instead; `redirect: true` makes Checkout post the result (success or failure)
// to the same callback_url as the hosted page, so the server confirms both the same way.
// A module (deferred, after checkout.js, which the page loads with `defer` before it).

const form = document.getElementById("checkout-form");
const status = document.getElementById("checkout-status");
const button = document.getElementById("checkout-pay");

const say = (text) => {
  if (status) status.textContent = text || "";
};

/** One of the form's hidden fields, or undefined when the page left it out. */
const value = (name) => {
  const input = form.elements.namedItem(name);
  return input?.value ? input.value : undefined;
};

function options() {
  const amount = value("amount");
  return {
    key: value("key_id"),
    order_id: value("order_id"),
    subscription_id: value("subscription_id"),
    amount: amount ? Number(amount) : undefined,
    currency: value("currency"),
    name: value("name"),
    description: value("description"),
    prefill: { name: value("prefill[name]"), email: value("prefill[email]") },
    callback_url: value("callback_url"),
    redirect: true,
    modal: {
      ondismiss: () => {
        if (button) button.disabled = false;
        say(form.dataset.msgDismissed);
      },
    },
  };
}

if (form) {
  form.addEventListener("submit", (ev) => {
    // Checkout's script did not load (blocked, offline): the hosted page still works.
    if (typeof window.Razorpay !== "function") return;
    ev.preventDefault();
    say("");
    if (button) button.disabled = true;
    try {
      const checkout = new window.Razorpay(options());
      checkout.on?.("payment.failed", () => say(form.dataset.msgFailed));
      checkout.open();
    } catch {
      // Anything wrong with the modal: fall back to the hosted page.
      form.submit();
    }
  });
}
