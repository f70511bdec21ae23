// What a demo chat carries from one message to the next, all of it in the page itself: the server
// keeps nothing. The pipeline's sealed transcript (opaque here: encrypted and expiring, so earlier
// turns cannot be forged for the model) and, beside it, the turns as the visitor saw them, so the
// page can show the conversation again. Those are only ever shown back to the same visitor, escaped:
// editing them changes nothing but their own screen.
import type { DemoEnvelope, DemoReply } from "@concierge/core";
import * as v from "valibot";
import { str } from "../forms.ts";

const VisibleTurnSchema = v.object({
  you: v.pipe(v.string(), v.maxLength(2000)),
  reply: v.pipe(v.string(), v.maxLength(8000)),
  via: v.picklist(["rule", "ai", "handoff", "none"]),
  handoff: v.boolean(),
});
export type VisibleTurn = v.InferOutput<typeof VisibleTurnSchema>;

/** DemoSettings allow at most 20 turns; a longer list is not one of ours. */
const VisibleTurnsSchema = v.pipe(v.array(VisibleTurnSchema), v.maxLength(20));

/**
 * The form's fields as posted, checked for shape only: the text's length is judged against the
 * demo settings' limit (a friendly message), and the whole form is already capped in size.
 */
const DemoFormSchema = v.object({
  archetypeId: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/)),
  text: v.string(),
  transcript: v.nullable(v.pipe(v.string(), v.maxLength(16_384))),
});
export type DemoForm = v.InferOutput<typeof DemoFormSchema> & { turns: VisibleTurn[] };

/** A chat as one rendering shows it. */
export type DemoState = {
  turns: VisibleTurn[];
  transcript: string | null;
  /** The persona picked last (kept checked), or null for the first offered. */
  archetypeId: string | null;
  /** What the visitor typed, kept in the box when it was not sent. */
  text: string;
  /**
   * The last reply's envelope: undefined before any reply in this rendering, null when the last
   * reply was a rule's (no model call).
   */
  envelope: DemoEnvelope | null | undefined;
  /** From the last reply; otherwise counted from the turns shown. */
  turnsLeft: number | null;
  /** A translated message for the visitor, shown as an alert in the chat. */
  error: string | null;
};

export const NEW_CHAT: DemoState = {
  turns: [],
  transcript: null,
  archetypeId: null,
  text: "",
  envelope: undefined,
  turnsLeft: null,
  error: null,
};

/**
 * Line breaks as a textarea submits them (CRLF) become LF, as a customer's message on a chat app
 * has them, and other control characters go: what reaches the model is what the panel shows.
 */
export function normalizeText(text: string): string {
  const lf = text.replace(/\r\n?/g, "\n");
  let out = "";
  for (const ch of lf) {
    const code = ch.charCodeAt(0);
    if (ch === "\n" || ch === "\t" || (code >= 0x20 && code !== 0x7f)) out += ch;
  }
  return out;
}

/** Earlier turns from the hidden field; anything that is not our own list shows as no turns. */
function parseTurns(raw: string): VisibleTurn[] {
  if (!raw) return [];
  try {
    const r = v.safeParse(VisibleTurnsSchema, JSON.parse(raw));
    return r.success ? r.output : [];
  } catch {
    return [];
  }
}

export function serializeTurns(turns: VisibleTurn[]): string {
  return JSON.stringify(turns);
}

/** The posted form, or null when its shape is not the demo form's (a tampered or foreign post). */
export function readDemoForm(form: FormData): DemoForm | null {
  const transcript = str(form, "transcript");
  const r = v.safeParse(DemoFormSchema, {
    archetypeId: str(form, "archetype"),
    text: normalizeText(str(form, "text")).trim(),
    transcript: transcript === "" ? null : transcript,
  });
  if (!r.success) return null;
  return { ...r.output, turns: parseTurns(str(form, "turns")) };
}

/** The turn just answered, as the page shows it from now on. */
export function visibleTurn(text: string, turn: DemoReply): VisibleTurn {
  return { you: text, reply: turn.reply, via: turn.via, handoff: turn.handoff };
}
