// WhatsApp Embedded Signup on /admin/whatsapp/connect: waits for both the code (FB.login) and the
// session info (Meta's message event), then posts them with the PIN in the page's hidden form.
// The page's data-* attributes carry the app's ids and the translated status texts.
// A classic script, not a module: it must set window.fbAsyncInit before Meta's SDK, loaded async
// right after it, runs.
(() => {
  const root = document.getElementById("wa-es");
  const form = document.getElementById("wa-es-form");
  const button = document.getElementById("wa-es-start");
  const status = document.getElementById("wa-es-status");
  if (!root || !form || !button) return;
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
    form.elements.pin.value = document.getElementById("wa-es-pin").value;
    say(root.dataset.msgSaving);
    form.submit();
  };
  window.addEventListener("message", (event) => {
    if (event.origin !== "https://www.facebook.com" && event.origin !== "https://web.facebook.com") return;
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
    button.disabled = true;
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
        extras: { setup: {}, featureType: "", sessionInfoVersion: "3" },
      },
    );
  });
})();
