// The live demo chat without page reloads (src/demo/chat.ts). Without this file the chat's form
// posts to /demo and the page comes back with the reply; with it, the same form is posted in the
// background with `accept: application/json`, and the answer's `html` (the chat section exactly as
// the page would show it) supplies the new messages, the form and "View prompt". New messages are
// appended to the existing log, a live region, so screen readers read them out (a chat the
// pipeline started over replaces the log instead); a refusal (too fast, too long, an unavailable
// persona…) shows its message in the chat's alert and keeps what was typed. A module, loaded with the page's CSP nonce by the chat section itself.

const section = document.getElementById("demo");

/** The part of `fresh` with this id, moved into the page in place of the current one. */
function replaceById(fresh, id) {
  const now = document.getElementById(id);
  const next = fresh.querySelector(`#${id}`);
  if (now && next) now.replaceWith(next);
  return next;
}

function showError(message) {
  const alert = document.getElementById("demo-alert");
  if (!alert) return;
  const p = document.createElement("p");
  p.className = "notice error";
  p.textContent = message;
  alert.replaceChildren(p);
}

function update(markup) {
  const fresh = new DOMParser().parseFromString(markup, "text/html");
  const log = section.querySelector("#demo-log ol");
  const freshItems = Array.from(fresh.querySelectorAll("#demo-log ol > li"));
  // The log stays the same element, so what is appended is announced; only the new turn is new.
  // When the pipeline started the chat over (another persona, an expired transcript) the fresh log
  // is shorter or starts elsewhere: it replaces the old one instead.
  const first = log.children[0];
  const restarted =
    freshItems.length < log.children.length ||
    (first !== undefined && freshItems[0]?.textContent !== first.textContent);
  if (restarted) log.replaceChildren(...freshItems);
  else for (const item of freshItems.slice(log.children.length)) log.append(item);
  document.getElementById("demo-empty")?.remove();
  document.getElementById("demo-alert")?.replaceChildren();
  const prompt = document.getElementById("demo-prompt");
  const wasOpen = prompt?.open;
  const nextPrompt = replaceById(fresh, "demo-prompt");
  if (nextPrompt && wasOpen) nextPrompt.open = true;
  const compose = replaceById(fresh, "demo-compose");
  wire();
  // Keyboard users carry on where they were: in the message box, or at the invitation once the
  // demo's turns are used.
  const next = compose?.querySelector("textarea") ?? document.getElementById("demo-done-h");
  next?.focus();
}

function wire() {
  const form = document.getElementById("demo-form");
  if (!form || form.dataset.wired) return;
  form.dataset.wired = "1";
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = document.getElementById("demo-send");
    const status = document.getElementById("demo-status");
    if (button?.disabled) return;
    const body = new URLSearchParams(new FormData(form));
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    if (status) status.textContent = button?.dataset.sending ?? "";
    let data;
    try {
      const res = await fetch(form.action, {
        method: "POST",
        body,
        headers: { accept: "application/json" },
        credentials: "same-origin",
      });
      data = await res.json();
    } catch {
      // No answer we can read (offline, an error page): the plain form post does the job.
      form.submit();
      return;
    } finally {
      if (button) button.disabled = false;
      form.removeAttribute("aria-busy");
      if (status) status.textContent = "";
    }
    if (data?.ok && typeof data.html === "string") {
      update(data.html);
    } else if (data?.error?.code === "archetype_unavailable") {
      // The picker must change: the server's page shows the personas still on offer.
      form.submit();
    } else {
      showError(data?.error?.message ?? "");
      form.querySelector("textarea")?.focus();
    }
  });
}

if (section) wire();
