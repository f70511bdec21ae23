// The live demo chat (PRODUCT.md §5) as one section, the same on the welcome page and at /demo:
// the sample business's name, the conversation so far, the persona picker (only the archetypes the
// pipeline offers: approved and active), the message box with its limit, the invitation to sign up
// once the turns are used, and "View prompt" with the exact envelope of the last AI reply.
//
// Without JavaScript it is a plain form posting to /demo, which answers with the page again. With
// it, public/assets/demo.js posts the same form in the background and takes the parts it needs
// from the same rendering (src/demo/routes.ts), so both ways show exactly the same thing.
import { createLogger, type DemoEnvelope, type DemoOptions, errorFields } from "@concierge/core";
import { type Html, html, raw } from "../html.ts";
import type { Ctx } from "../http.ts";
import { type DemoState, NEW_CHAT, serializeTurns, type VisibleTurn } from "./state.ts";

const log = createLogger("dashboard");

/**
 * The demo's options from the pipeline, or null when it cannot say (the page then says the demo
 * is unavailable instead of failing the page it is on).
 */
export async function loadDemoOptions(c: Ctx): Promise<DemoOptions | null> {
  try {
    const r = await c.env.DEMO.demoOptions();
    if (r.ok) return r.options;
    log.warn("demo.options_refused", { code: r.error.code });
  } catch (err) {
    log.error("demo.options_failed", errorFields(err));
  }
  return null;
}

/** The chat for a page that has not loaded the options itself (the welcome page). */
export async function demoChat(c: Ctx, state: DemoState = NEW_CHAT): Promise<Html> {
  return demoSection(c, await loadDemoOptions(c), state);
}

/** Escaped for text inside <pre>; a carriage return as a character reference (see preText). */
function escapePre(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

/**
 * Text for a <pre>, so that the element's text is the string, character for character: escaped,
 * a carriage return as a character reference (the HTML parser would turn a literal one into a line
 * feed), and a line feed first, which the parser drops after <pre> (else a leading one would go).
 */
export function preText(s: string): Html {
  return raw(`\n${escapePre(s)}`);
}

/** The system prompt with the business's part (the envelope's middle offsets) marked. */
function systemPrompt(c: Ctx, envelope: DemoEnvelope): Html {
  const { system } = envelope;
  const start = Math.min(Math.max(0, envelope.middle[0]), system.length);
  const end = Math.min(Math.max(start, envelope.middle[1]), system.length);
  const part = (s: string) => raw(escapePre(s));
  // The label is CSS-generated (from data-label), so the <pre>'s text stays exactly the prompt.
  return html`<pre class="demo-envelope" data-role="system" tabindex="0" aria-labelledby="demo-prompt-system">${preText(
    system.slice(0, start),
  )}<mark class="demo-middle" data-label="${c.t("demo-prompt-middle-label")}">${part(system.slice(start, end))}</mark>${part(
    system.slice(end),
  )}</pre>`;
}

const ROLE_LABEL = {
  system: "demo-role-system",
  user: "demo-role-user",
  assistant: "demo-role-assistant",
} as const;

/** "View prompt": what the model received for the last reply, or why there is nothing to show. */
function promptPanel(c: Ctx, envelope: DemoEnvelope | null | undefined): Html {
  const { t } = c;
  let body: Html;
  if (envelope === undefined) body = html`<p>${t("demo-prompt-none")}</p>`;
  else if (envelope === null) body = html`<p>${t("demo-prompt-rule")}</p>`;
  else
    body = html`<p>${t("demo-prompt-lead")}</p>
<p class="demo-middle-key"><mark class="demo-middle-sample">${t("demo-prompt-middle-label")}</mark> ${t("demo-prompt-middle")}</p>
<h3 id="demo-prompt-system">${t("demo-prompt-system")}</h3>
${systemPrompt(c, envelope)}
<h3>${t("demo-prompt-messages")}</h3>
<ol class="demo-messages">
${envelope.messages.map(
  (m, i) => html`<li><p class="demo-role" id="demo-role-${i}">${t(ROLE_LABEL[m.role])}</p>
<pre class="demo-envelope" data-role="${m.role}" tabindex="0" aria-labelledby="demo-role-${i}">${preText(m.content)}</pre></li>`,
)}
</ol>`;
  return html`<details id="demo-prompt" class="demo-prompt">
<summary>${t("demo-prompt-summary")}</summary>
<div class="demo-prompt-body">${body}</div>
</details>`;
}

const VIA_LABEL = {
  rule: "demo-via-rule",
  ai: "demo-via-ai",
  handoff: "demo-via-handoff",
  none: "demo-via-none",
} as const;

/** One turn: the visitor's message and what the business would answer. */
function turnItems(c: Ctx, business: string, turn: VisibleTurn): Html {
  const { t } = c;
  return html`<li class="demo-msg demo-msg-you"><span class="demo-who">${t("demo-you")}</span>
<p class="demo-text">${turn.you}</p></li>
<li class="demo-msg demo-msg-business"><span class="demo-who">${business}</span>
${turn.reply ? html`<p class="demo-text">${turn.reply}</p>` : html`<p class="demo-text demo-quiet">${t(turn.via === "none" ? "demo-held" : "demo-no-reply")}</p>`}
<p class="demo-via">${t(VIA_LABEL[turn.via])}</p>
${turn.handoff ? html`<p class="demo-handoff">${t("demo-handoff", { business })}</p>` : null}</li>`;
}

/** The persona picker: radio buttons, each with its description. */
function personaPicker(c: Ctx, options: DemoOptions, chosen: string | null, started: boolean): Html {
  const { t } = c;
  const selected = options.archetypes.some((a) => a.id === chosen) ? chosen : options.archetypes[0]?.id;
  return html`<fieldset class="demo-personas" aria-describedby="demo-personas-hint">
<legend>${t("demo-persona-legend")}</legend>
<p class="hint" id="demo-personas-hint">${t("demo-persona-hint")}${started ? html` ${t("demo-persona-restart")}` : null}</p>
${options.archetypes.map(
  (a) => html`<div class="demo-persona">
<input type="radio" id="demo-persona-${a.id}" name="archetype" value="${a.id}"${a.id === selected ? raw(" checked") : null} aria-describedby="demo-persona-${a.id}-d">
<label for="demo-persona-${a.id}">${a.name}</label>
<span class="hint" id="demo-persona-${a.id}-d">${a.description}</span>
</div>`,
)}
</fieldset>`;
}

/** The form, or once the turns are used, the invitation to sign up. */
function compose(c: Ctx, options: DemoOptions, state: DemoState): Html {
  const { t } = c;
  const { maxChars, maxTurns } = options.limits;
  const left = state.turnsLeft ?? Math.max(0, maxTurns - state.turns.length);
  if (left <= 0)
    return html`<div id="demo-compose" class="demo-done">
<h3 id="demo-done-h" tabindex="-1">${t("demo-done-title")}</h3>
<p>${t("demo-done-text", { turns: maxTurns })}</p>
<p class="row">${
      c.session
        ? html`<a class="button" href="/admin">${t("site-open-dashboard")}</a>`
        : html`<a class="button" href="/sign-in">${t("site-cta-sign-up")}</a>`
    }</p>
</div>`;
  if (options.archetypes.length === 0)
    return html`<div id="demo-compose"><p class="notice warn">${t("demo-no-personas")}</p></div>`;
  return html`<div id="demo-compose">
<form id="demo-form" class="demo-form" method="post" action="/demo#demo">
${personaPicker(c, options, state.archetypeId, state.turns.length > 0)}
<div class="field">
<label for="demo-text">${t("demo-message-label")}</label>
<span class="hint" id="demo-text-hint">${t("demo-message-hint", { max: maxChars, left })}</span>
<textarea id="demo-text" name="text" rows="3" maxlength="${maxChars}" required aria-describedby="demo-text-hint"${
    state.error ? raw(' aria-invalid="true"') : null
  }>${state.text}</textarea>
</div>
<input type="hidden" name="transcript" value="${state.transcript ?? ""}">
<input type="hidden" name="turns" value="${serializeTurns(state.turns)}">
<p class="row"><button type="submit" id="demo-send" data-sending="${t("demo-sending")}">${t("demo-send")}</button></p>
</form>
</div>`;
}

/** The whole chat section for these options (null: the pipeline could not be asked). */
export function demoSection(c: Ctx, options: DemoOptions | null, state: DemoState): Html {
  const { t } = c;
  if (!options)
    return html`<section id="demo" class="card demo" aria-labelledby="demo-h">
<h2 id="demo-h">${t("site-demo-title")}</h2>
<p>${t("site-demo-text")}</p>
<p class="notice error" role="alert">${state.error ?? t("demo-err-unavailable")}</p>
</section>`;
  const business = options.businessName;
  return html`<section id="demo" class="card demo" aria-labelledby="demo-h">
<h2 id="demo-h">${t("demo-title", { business })}</h2>
<p>${t("demo-lead", { business })}</p>
<div id="demo-log" role="log" aria-label="${t("demo-log-label", { business })}"><ol class="demo-log">
${state.turns.map((turn) => turnItems(c, business, turn))}
</ol></div>
${state.turns.length === 0 ? html`<p id="demo-empty" class="muted">${t("demo-empty")}</p>` : null}
<div id="demo-alert" role="alert">${state.error ? html`<p class="notice error">${state.error}</p>` : null}</div>
${compose(c, options, state)}
<p id="demo-status" class="sr-only" role="status"></p>
${promptPanel(c, state.envelope)}
<script type="module" src="/assets/demo.js?v=${c.assetVersion}" nonce="${c.nonce}"></script>
</section>`;
}
