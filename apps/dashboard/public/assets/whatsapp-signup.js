// WhatsApp Embedded Signup on /admin/whatsapp/connect: waits for both the code (FB.login) and the
// session info (Meta's message event), then posts them with the PIN in the page's hidden form.
// The page's data-* attributes carry the app's ids, the origins the session info may come from
// (Meta's www/web.facebook.com, or the sandbox's fake SDK locally: FACEBOOK_SDK_URL), the business
// name the signup is pre-filled with, and the translated status texts.
// A classic script, not a module: it must set window.fbAsyncInit before Meta's SDK, loaded async
// right after it, runs.
(() => {
  const root = document.getElementById("wa-es");
  const form = document.getElementById("wa-es-form");
  const button = document.getElementById("wa-es-start");
  const status = document.getElementById("wa-es-status");
  if (!root || !form || !button) return;
  const origins = new Set((root.dataset.messageOrigins || "").split(" ").filter(Boolean));
  const pin = document.getElementById("wa-es-pin");
  let code = null;
  let session = null;
  const say = (text) => {
    status.textContent = text;
  };
  const finish = () => {
    if (!code || !session) return;
    form.elements.code.value = code;
    form.elements.phone_number_id.value = session.phone_number_id;
    form.elements.waba_id.value = session.waba_id || "";
    form.elements.pin.value = pin.value;
    say(root.dataset.msgSaving);
    form.submit();
  };
  window.addEventListener("message", (event) => {
    if (!origins.has(event.origin)) return;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (data?.type !== "WA_EMBEDDED_SIGNUP") return;
    if (data.event === "FINISH" && data.data?.phone_number_id) {
      session = data.data;
      finish();
    } else if (data.event === "CANCEL") {
      button.disabled = false;
      say(data.data?.error_message ? root.dataset.msgError : root.dataset.msgCancelled);
    }
  });
  window.fbAsyncInit = () => {
    FB.init({
      appId: root.dataset.appId,
      autoLogAppEvents: true,
      xfbml: false,
      version: root.dataset.graphVersion,
    });
    button.disabled = false;
  };
  button.addEventListener("click", () => {
    // The PIN is checked before the popup opens: the sign-up's code is good for one try only.
    if (!pin.checkValidity()) {
      pin.reportValidity();
      pin.focus();
      return;
    }
    button.disabled = true;
    code = null;
    session = null;
    say(root.dataset.msgWaiting);
    FB.login(
      (response) => {
        if (response.authResponse?.code) {
          code = response.authResponse.code;
          finish();
        } else if (!session) {
          button.disabled = false;
          say(root.dataset.msgCancelled);
        }
      },
      {
        config_id: root.dataset.configId,
        response_type: "code",
        override_default_response_type: true,
        // Meta's pre-fill of the business's details: the name the dashboard knows.
        extras: {
          setup: root.dataset.businessName ? { business: { name: root.dataset.businessName } } : {},
          featureType: "",
          sessionInfoVersion: "3",
        },
      },
    );
  });
})();
