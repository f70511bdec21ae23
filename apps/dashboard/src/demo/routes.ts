// GET /demo: the live demo's own page. POST /demo: one customer message of the demo chat, from
// its form on this page or on the welcome page.
//
// The POST has no session and no CSRF token (a visitor has neither); what it can do is bounded
// instead: it reaches only the pipeline's DemoEntrypoint, which touches no tenant, credit or
// channel, and it is refused when the browser says it comes from another site (Origin). Each
// message passes the per-visitor burst limit (the Rate Limiting binding, per minute) before the
// pipeline, which applies the operator's hourly and daily quotas. Nothing of the chat is written
// anywhere here: the state travels in the page (src/demo/state.ts), and no log line carries the
// text, the address or its pseudonym.
//
// Answers: the page again (no JavaScript), with the status saying what happened (200, 400, 403,
// 409, 429, 503); or, to `accept: application/json` (demo.js), `{ ok: true, turn, html }` with the
// chat section as rendered for the page, or the error envelope with a message for the visitor.
import { createLogger, type DemoOptions, type DemoReply, errorFields, errorResponse } from "@concierge/core";
import { type Html, html, renderHtml } from "../html.ts";
import { type Ctx, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";
import { demoChat, demoSection, loadDemoOptions } from "./chat.ts";
import { type DemoState, NEW_CHAT, readDemoForm, visibleTurn } from "./state.ts";
import { visitorPseudonym } from "./visitor.ts";

const log = createLogger("dashboard");

/** The /demo page around the chat section. */
function demoDocument(c: Ctx, chat: Html): Html {
  const { t } = c;
  const body = html`<h1>${t("site-demo-page-title")}</h1>
<p class="site-lead">${t("site-demo-page-lead")}</p>
${chat}
<p class="row"><a href="/features">${t("site-see-features")}</a> <a href="/privacy">${t("site-see-privacy")}</a></p>`;
  return publicPage(c, {
    title: t("site-demo-page-title"),
    meta: { description: t("site-demo-page-description"), path: "/demo" },
    section: "demo",
    body,
  });
}

/** GET /demo */
export async function demoPage(c: Ctx): Promise<Response> {
  return respond(c, demoDocument(c, await demoChat(c)));
}

const wantsJson = (c: Ctx) => (c.headers.get("accept") ?? "").includes("application/json");

/** A chat answer is the visitor's alone (it carries their transcript): never kept by a cache. */
function private_(res: Response): Response {
  res.headers.set("cache-control", "no-store");
  return res;
}

type Refusal = {
  status: number;
  code: string;
  message: string;
  /** How the chat shows again with the message (what was typed stays in the box). */
  state: DemoState;
  retryAfter?: number;
};

async function refuse(c: Ctx, options: DemoOptions | null, r: Refusal): Promise<Response> {
  const res = wantsJson(c)
    ? errorResponse(r.status, r.code, r.message)
    : await respond(c, demoDocument(c, demoSection(c, options, { ...r.state, error: r.message })), r.status);
  if (r.retryAfter) res.headers.set("retry-after", String(r.retryAfter));
  return private_(res);
}

/** POST /demo */
export async function demoPost(c: Ctx): Promise<Response> {
  const { t } = c;
  const origin = c.headers.get("origin");
  // A browser names the page a POST comes from; one from another site is not our demo form.
  if (origin !== null && origin !== c.origin)
    return refuse(c, null, {
      status: 403,
      code: "forbidden_origin",
      message: t("demo-err-origin"),
      state: NEW_CHAT,
    });

  const options = await loadDemoOptions(c);
  const form = readDemoForm(c.form);
  if (!form)
    return refuse(c, options, {
      status: 400,
      code: "invalid_input",
      message: t("demo-err-invalid"),
      state: NEW_CHAT,
    });
  const state: DemoState = {
    ...NEW_CHAT,
    turns: form.turns,
    transcript: form.transcript,
    archetypeId: form.archetypeId,
    text: form.text,
  };
  if (!options)
    return refuse(c, null, { status: 503, code: "unavailable", message: t("demo-err-unavailable"), state });

  // The pipeline judges these too; answered here, they cost the visitor none of their limit.
  const { maxChars, maxTurns } = options.limits;
  if (form.text === "")
    return refuse(c, options, { status: 400, code: "invalid_input", message: t("demo-err-empty"), state });
  if (form.text.length > maxChars)
    return refuse(c, options, {
      status: 400,
      code: "too_long",
      message: t("demo-err-too-long", { max: maxChars }),
      state,
    });
  if (!options.archetypes.some((a) => a.id === form.archetypeId))
    return refuse(c, options, {
      status: 409,
      code: "archetype_unavailable",
      message: t("demo-err-archetype"),
      state: { ...state, archetypeId: null },
    });

  const visitor = await visitorPseudonym(c);
  const { success } = await c.env.DEMO_RATE_LIMIT.limit({ key: visitor });
  if (!success)
    return refuse(c, options, {
      status: 429,
      code: "rate_limited",
      message: t("demo-err-burst"),
      state,
      retryAfter: 60,
    });

  let result: Awaited<ReturnType<Env["DEMO"]["demoReply"]>>;
  try {
    result = await c.env.DEMO.demoReply({
      archetypeId: form.archetypeId,
      text: form.text,
      transcript: form.transcript,
      visitor,
    });
  } catch (err) {
    log.error("demo.reply_failed", errorFields(err));
    return refuse(c, options, {
      status: 503,
      code: "unavailable",
      message: t("demo-err-unavailable"),
      state,
    });
  }

  if (!result.ok) {
    const { code } = result.error;
    switch (code) {
      case "rate_limited":
        return refuse(c, options, {
          status: 429,
          code,
          message: t("demo-err-quota"),
          state,
          retryAfter: result.error.retryAfterSeconds,
        });
      case "too_long":
        return refuse(c, options, {
          status: 400,
          code,
          message: t("demo-err-too-long", { max: maxChars }),
          state,
        });
      case "archetype_unavailable": {
        // Retired or refused since the options were read: offered no more on this page either.
        const offered = {
          ...options,
          archetypes: options.archetypes.filter((a) => a.id !== form.archetypeId),
        };
        return refuse(c, offered, {
          status: 409,
          code,
          message: t("demo-err-archetype"),
          state: { ...state, archetypeId: null },
        });
      }
      case "turns_used":
        return refuse(c, options, {
          status: 409,
          code,
          message: t("demo-err-turns", { turns: maxTurns }),
          state: { ...state, turnsLeft: 0 },
        });
      case "ai_unavailable":
        return refuse(c, options, { status: 503, code, message: t("demo-err-ai"), state });
      case "invalid_input":
        return refuse(c, options, { status: 400, code, message: t("demo-err-invalid"), state });
      default:
        log.warn("demo.reply_refused", { code });
        return refuse(c, options, { status: 503, code, message: t("demo-err-unavailable"), state });
    }
  }

  // RPC's type mapping widens the envelope's [start, end) tuple to number[]; the value is the
  // contract's DemoReply.
  const turn = result.turn as DemoReply;
  // The pipeline's count of this chat's turns decides how many the page shows: a chat it started
  // over (another persona, an expired transcript) shows only the turn just answered.
  const count = Math.max(1, maxTurns - turn.turnsLeft);
  const answered: DemoState = {
    turns: [...form.turns, visibleTurn(form.text, turn)].slice(-count),
    transcript: turn.transcript,
    archetypeId: form.archetypeId,
    text: "",
    envelope: turn.envelope,
    turnsLeft: turn.turnsLeft,
    error: null,
  };
  const section = demoSection(c, options, answered);
  if (wantsJson(c)) return private_(Response.json({ ok: true, turn, html: await renderHtml(section) }));
  return private_(await respond(c, demoDocument(c, section)));
}
