// The sandbox's stand-in for Meta's JavaScript SDK (https://connect.facebook.net/en_US/sdk.js), as
// much of it as WhatsApp Embedded Signup uses: FB.init, FB.login(callback, { config_id, … }) and
// FB.getLoginStatus. Like Meta's, it calls window.fbAsyncInit once loaded, and FB.login opens the
// signup dialog in a popup on the dialog's own site (Meta's on www.facebook.com, ours on the
// sandbox, found from this script's own src). The dialog posts two messages to this window:
// - the session info, { type: "WA_EMBEDDED_SIGNUP", event: "FINISH" | "CANCEL", data, version },
//   as a JSON string, for the page's own listener, exactly as Meta's dialog posts it;
// - the login result, { type: "sandbox_fb_login", code }, which only this script reads: it calls the
//   login callback with { authResponse: { code, … }, status: "connected" }, or with
//   { authResponse: null, status: "unknown" } when the person cancelled or closed the popup.
(() => {
  const script = document.currentScript;
  const ORIGIN = script?.src ? new URL(script.src, document.baseURI).origin : "__SANDBOX_ORIGIN__";
  const NOT_CONNECTED = { authResponse: null, status: "unknown" };
  let appId = "";
  /** The login under way: its popup, its callback and the watch for the popup being closed. */
  let pending = null;

  function settle(response) {
    if (!pending) return;
    const { callback, timer } = pending;
    pending = null;
    clearInterval(timer);
    callback(response);
  }

  window.addEventListener("message", (event) => {
    // Only the popup this script opened, on the dialog's origin, can answer a login.
    if (!pending || event.origin !== ORIGIN || event.source !== pending.popup) return;
    const m = event.data;
    if (!m || typeof m !== "object" || m.type !== "sandbox_fb_login") return;
    settle(
      m.code
        ? {
            // Meta's shape for response_type "code": the code, and no user token or id.
            authResponse: { code: m.code, userID: null, expiresIn: null, accessToken: null },
            status: "connected",
          }
        : NOT_CONNECTED,
    );
  });

  window.FB = {
    init(options) {
      appId = String(options?.appId ?? "");
    },
    getLoginStatus(callback) {
      callback(NOT_CONNECTED);
    },
    login(callback, options = {}) {
      if (!appId) throw new Error("FB.login() called before FB.init().");
      if (pending) return; // Meta's SDK ignores a second login while its dialog is open.
      const url = new URL("/facebook/embedded-signup", ORIGIN);
      url.search = new URLSearchParams({
        app_id: appId,
        config_id: options.config_id ?? "",
        response_type: options.response_type ?? "token",
        extras: JSON.stringify(options.extras ?? {}),
        // Where the dialog may post its messages; the sandbox refuses any but the dashboard's.
        origin: window.location.origin,
      }).toString();
      const popup = window.open(url, "sandbox_embedded_signup", "popup,width=560,height=720");
      if (!popup) return callback(NOT_CONNECTED);
      // A closed popup without an answer is a cancel. The dialog closes itself right after
      // posting, so wait a moment for its messages before concluding that.
      const login = { popup, callback, timer: 0 };
      login.timer = setInterval(() => {
        if (!popup.closed) return;
        clearInterval(login.timer);
        setTimeout(() => pending === login && settle(NOT_CONNECTED), 1000);
      }, 500);
      pending = login;
    },
  };

  // Meta's SDK calls fbAsyncInit asynchronously once it has loaded.
  if (typeof window.fbAsyncInit === "function") setTimeout(window.fbAsyncInit, 0);
})();
