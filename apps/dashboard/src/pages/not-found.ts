import { msg } from "@concierge/i18n";
import { type Ctx, html } from "../http.ts";
import { errorPage } from "../layout.ts";

export function notFoundPage(c: Ctx): Promise<Response> {
  return html(c, errorPage(c, 404, msg("error-not-found")), 404);
}
