// The sandbox's stand-in for Razorpay's checkout.js (https://checkout.razorpay.com/v1/checkout.js):
// defines window.Razorpay with Razorpay's options, open(), close() and on("payment.failed", fn).
// Like Razorpay's, the modal lives in an iframe served by the payment side (the sandbox), so the
// merchant page's CSP needs only frame-src for it, and the page's own styles cannot touch it.
// The iframe tells this script what happened through postMessage:
// - success: the handler gets { razorpay_payment_id, razorpay_order_id | razorpay_subscription_id,
//   razorpay_signature }; or, with callback_url and no handler (or redirect: true), the page is
//   sent through the sandbox (a top-level form POST, as Razorpay's redirect flow goes through its
//   own site) which POSTs those fields to callback_url;
// - failure: "payment.failed" listeners get { error }; with callback_url and redirect: true the
//   error[…] fields are POSTed to callback_url; otherwise the modal stays open for a retry
//   (retry: false closes it and calls modal.ondismiss, as Razorpay does);
// - dismiss (the Dismiss or close button, Escape): modal.ondismiss is called.
(() => {
  const script = document.currentScript;
  const ORIGIN = script?.src ? new URL(script.src, document.baseURI).origin : "__SANDBOX_ORIGIN__";

  const text = (v) => (v === undefined || v === null ? undefined : String(v));

  /** Posts `fields` to `action` as a top-level form submission. */
  function submitForm(action, fields) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    for (const [name, value] of Object.entries(fields)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }

  class Razorpay {
    constructor(options) {
      if (!options || typeof options !== "object") throw new Error("Razorpay: options are required");
      if (!options.key) throw new Error("Razorpay: the key option is required");
      this.options = options;
      this.listeners = {};
      this.frame = null;
      this.onMessage = this.onMessage.bind(this);
    }

    on(event, fn) {
      if (typeof fn !== "function") return this;
      if (!this.listeners[event]) this.listeners[event] = [];
      this.listeners[event].push(fn);
      return this;
    }

    open() {
      if (this.frame) return this;
      const o = this.options;
      const modal = o.modal ?? {};
      const config = {
        key: text(o.key),
        order_id: text(o.order_id),
        subscription_id: text(o.subscription_id),
        amount: text(o.amount),
        currency: text(o.currency),
        name: text(o.name),
        description: text(o.description),
        prefill: o.prefill && typeof o.prefill === "object" ? o.prefill : undefined,
        notes: o.notes && typeof o.notes === "object" ? o.notes : undefined,
        theme: o.theme?.color ? { color: text(o.theme.color) } : undefined,
        escape: modal.escape !== false,
        backdropclose: modal.backdropclose === true,
      };
      const frame = document.createElement("iframe");
      frame.src = `${ORIGIN}/razorpay/checkout/modal?o=${encodeURIComponent(JSON.stringify(config))}`;
      frame.title = "Razorpay Checkout";
      // CSSOM, not a style attribute: pages with a strict style-src CSP allow it.
      Object.assign(frame.style, {
        position: "fixed",
        inset: "0",
        width: "100%",
        height: "100%",
        border: "0",
        margin: "0",
        padding: "0",
        zIndex: "2147483647",
        background: "transparent",
      });
      // Everything else on the page is out of reach (keyboard, screen readers) while Checkout is open.
      this.inerted = [];
      for (const el of document.body.children) {
        if (!el.inert) {
          el.inert = true;
          this.inerted.push(el);
        }
      }
      this.previousFocus = document.activeElement;
      this.overflow = document.body.style.overflow;
      document.body.style.overflow = "hidden";
      window.addEventListener("message", this.onMessage);
      frame.addEventListener("load", () => frame.focus());
      document.body.append(frame);
      this.frame = frame;
      return this;
    }

    close() {
      if (!this.frame) return;
      window.removeEventListener("message", this.onMessage);
      this.frame.remove();
      this.frame = null;
      for (const el of this.inerted ?? []) el.inert = false;
      this.inerted = [];
      document.body.style.overflow = this.overflow ?? "";
      if (this.previousFocus && typeof this.previousFocus.focus === "function") this.previousFocus.focus();
    }

    emit(event, payload) {
      for (const fn of this.listeners[event] ?? []) {
        try {
          fn(payload);
        } catch (err) {
          setTimeout(() => {
            throw err;
          });
        }
      }
    }

    redirectTo(paymentId) {
      submitForm(`${ORIGIN}/razorpay/checkout/redirect`, {
        payment_id: paymentId,
        callback_url: String(this.options.callback_url),
      });
    }

    onMessage(e) {
      if (!this.frame || e.source !== this.frame.contentWindow || e.origin !== ORIGIN) return;
      const m = e.data;
      if (m?.source !== "razorpay-sandbox") return;
      const o = this.options;
      const hasHandler = typeof o.handler === "function";
      if (m.type === "success") {
        this.close();
        if (o.callback_url && (o.redirect === true || !hasHandler)) this.redirectTo(m.paymentId);
        else if (hasHandler) o.handler(m.response);
      } else if (m.type === "failed") {
        this.emit("payment.failed", { error: m.error });
        if (o.callback_url && o.redirect === true) {
          this.close();
          this.redirectTo(m.paymentId);
        } else if (o.retry === false || o.retry?.enabled === false) {
          this.close();
          o.modal?.ondismiss?.();
        }
      } else if (m.type === "dismiss") {
        this.close();
        o.modal?.ondismiss?.();
      }
    }
  }

  window.Razorpay = Razorpay;
})();
