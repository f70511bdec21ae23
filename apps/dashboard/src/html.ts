import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/**
 * Templates are hono's `html` tagged literals: every interpolated value is escaped unless it is
 * itself a template (or explicitly `raw`), arrays are joined, and null/false render nothing.
 */
export { html, raw };
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export async function renderHtml(h: Html): Promise<string> {
  return (await h).toString();
}

/** `when(cond, template)`: a template or nothing, so conditionals read inline. */
export function when(cond: unknown, make: () => Html): Html | null {
  return cond ? make() : null;
}
