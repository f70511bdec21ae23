// Progressive enhancement only: every form works without this file. With it, a form marked
// data-target posts in the background and swaps just that region of the page, and an element
// marked data-poll refreshes itself until the server stops marking it.
// Loaded as a module (deferred, strict, nothing global) with the page's CSP nonce.

const csrf = document.querySelector('meta[name="csrf-token"]');
const csrfToken = () => (csrf ? csrf.content : "");

function swap(target, text) {
  const holder = document.createElement("div");
  holder.innerHTML = text;
  const fresh = holder.firstElementChild;
  if (fresh) {
    target.replaceWith(fresh);
    wire(fresh);
  }
  return fresh;
}

function all(root, selector) {
  const found = Array.from(root.querySelectorAll(selector));
  if (root.matches?.(selector)) found.unshift(root);
  return found;
}

// An error page, a redirect to sign-in or a network failure is never swapped into the page:
// the browser does the plain, JavaScript-free thing instead.
function fragment(res) {
  if (!res.ok || res.redirected) throw new Error("no fragment");
  return res.text();
}

// A region marked data-poll asks for itself again after data-poll-ms. It is not swapped while
// the tab is hidden (nothing is fetched then), while focus is inside it (a person using a link or
// a button there keeps it), or when nothing changed (screen readers are not told it again). A
// failure reloads the page, unless the region is marked data-poll-retry: then it tries again later,
// waiting longer each time, so a reply being typed elsewhere on the page is never lost.
function poll(el, failures = 0) {
  const base = Number(el.dataset.pollMs || 2000);
  const delay = failures ? Math.min(base * 2 ** failures, 60000) : base;
  setTimeout(() => {
    if (!el.isConnected) return;
    if (document.hidden || el.contains(document.activeElement)) return poll(el, failures);
    fetch(el.dataset.poll, { headers: { "x-partial": "1" }, credentials: "same-origin" })
      .then((res) => {
        // Signed out meanwhile (a redirect to sign-in): the page itself says so.
        if (res.redirected) {
          location.reload();
          return null;
        }
        return fragment(res);
      })
      .then((text) => {
        if (text === null) return;
        if (text === el.pollText || el.contains(document.activeElement)) return poll(el);
        const fresh = swap(el, text);
        if (fresh) fresh.pollText = text;
        else poll(el);
      })
      .catch(() => {
        if (!("pollRetry" in el.dataset)) return location.reload();
        poll(el, failures + 1);
      });
  }, delay);
}

function wire(root) {
  for (const form of all(root, "form[data-target]")) {
    if (form.dataset.wired) continue;
    form.dataset.wired = "1";
    form.addEventListener("submit", (ev) => {
      const target = document.querySelector(form.dataset.target);
      if (!target) return;
      ev.preventDefault();
      const body = new URLSearchParams(new FormData(form, ev.submitter || undefined));
      target.setAttribute("aria-busy", "true");
      fetch(form.action, {
        method: "POST",
        body,
        headers: { "x-partial": "1", "x-csrf-token": csrfToken() },
        credentials: "same-origin",
      })
        .then(fragment)
        .then((text) => swap(target, text))
        .catch(() => form.submit());
    });
  }
  for (const el of all(root, "[data-poll]")) {
    if (el.dataset.wired) continue;
    el.dataset.wired = "1";
    poll(el);
  }
  for (const form of all(root, "[data-live-preview]")) {
    if (form.dataset.liveWired) continue;
    form.dataset.liveWired = "1";
    let timer;
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const target = document.querySelector(form.dataset.livePreview);
        if (!target) return;
        fetch(form.dataset.previewUrl, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { "x-partial": "1", "x-csrf-token": csrfToken() },
          credentials: "same-origin",
        })
          .then(fragment)
          .then((text) => {
            const current = document.querySelector(form.dataset.livePreview);
            if (current) swap(current, text);
          })
          .catch(() => {});
      }, 300);
    });
  }
}

// Print buttons (a receipt): hidden without JavaScript, where the browser's own Print does it.
for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// The wizard's time zone, never saved yet: the browser's own zone when the list offers it (the
// server only had Cloudflare's guess, or the locale's default).
// The same zone can have two names (Chromium reports Asia/Calcutta for Asia/Kolkata): a guess the
// server already made under the other name is kept.
const canonicalZone = (zone) => {
  try {
    return new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
};
for (const select of document.querySelectorAll("select[data-browser-zone]")) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || canonicalZone(select.value) === canonicalZone(zone)) continue;
  if (Array.from(select.options).some((o) => o.value === zone)) select.value = zone;
}

wire(document);
