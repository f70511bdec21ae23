// The operator panel's routes (/manage/*), registered on the dashboard's router (src/routes.ts).
// Every path here is behind Cloudflare Access by where it lives: the `requireOperator` stage has
// verified the Access token before any of these handlers runs, and `checkOperatorCsrf` has checked
// every POST's form token (src/stages.ts).
//
// A first page only, so that the guard can be tested end to end; the panel's pages register here.
import type { RouterType } from "itty-router";
import { html } from "../html.ts";
import { type Ctx, type OperatorCtx, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";

function manageHome(c: OperatorCtx): Promise<Response> {
  const title = c.t("manage-access-title");
  return respond(c, publicPage(c, { title, body: html`<h1>${title}</h1><p>${c.operator.email}</p>` }));
}

export function registerManageRoutes(router: RouterType<Ctx, [Env, ExecutionContext]>): void {
  router.get("/manage", manageHome);
}
