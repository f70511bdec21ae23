// Progressive enhancement only: every form works without this file. With it, a form marked
// data-target posts in the background and swaps just that region of the page, and an element
// marked data-poll refreshes itself until the server stops marking it.
export const APP_JS = `
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  function swap(target, text) {
    var holder = document.createElement("div");
    holder.innerHTML = text;
    var fresh = holder.firstElementChild;
    if (fresh) { target.replaceWith(fresh); wire(fresh); }
  }
  function all(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }
  // An error page, a redirect to sign-in or a network failure is never swapped into the page:
  // the browser does the plain, JavaScript-free thing instead.
  function fragment(res) {
    if (!res.ok || res.redirected) throw new Error("no fragment");
    return res.text();
  }
  function wire(root) {
    all(root, "form[data-target]").forEach(function (form) {
      if (form.dataset.wired) return;
      form.dataset.wired = "1";
      form.addEventListener("submit", function (ev) {
        var target = document.querySelector(form.dataset.target);
        if (!target) return;
        ev.preventDefault();
        var body = new URLSearchParams(new FormData(form, ev.submitter || undefined));
        target.setAttribute("aria-busy", "true");
        fetch(form.action, {
          method: "POST",
          body: body,
          headers: { "x-partial": "1", "x-csrf-token": csrf ? csrf.content : "" },
          credentials: "same-origin"
        }).then(fragment).then(function (text) {
          swap(target, text);
        }).catch(function () { form.submit(); });
      });
    });
    all(root, "[data-poll]").forEach(function (el) {
      if (el.dataset.wired) return;
      el.dataset.wired = "1";
      setTimeout(function () {
        if (!el.isConnected) return;
        fetch(el.dataset.poll, { headers: { "x-partial": "1" }, credentials: "same-origin" })
          .then(fragment)
          .then(function (text) { swap(el, text); })
          .catch(function () { location.reload(); });
      }, Number(el.dataset.pollMs || 2000));
    });
    all(root, "[data-live-preview]").forEach(function (form) {
      if (form.dataset.liveWired) return;
      form.dataset.liveWired = "1";
      var timer;
      form.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var target = document.querySelector(form.dataset.livePreview);
          if (!target) return;
          fetch(form.dataset.previewUrl, {
            method: "POST",
            body: new URLSearchParams(new FormData(form)),
            headers: { "x-partial": "1", "x-csrf-token": csrf ? csrf.content : "" },
            credentials: "same-origin"
          }).then(fragment).then(function (text) {
            var t = document.querySelector(form.dataset.livePreview);
            if (t) swap(t, text);
          }).catch(function () {});
        }, 300);
      });
    });
  }
  wire(document);
})();
`;
