/**
 * The onboarding wizard's frame (/dashboard/wizard, PRODUCT.md §4): its own page chrome, with
 * "Step N of 5", the list of steps (completed ones are links back) and a Back link, but none of
 * the dashboard's navigation, so a new tenant follows one path. Every step's handler loads the
 * tenant's progress once with loadWizard; the frame reuses that read.
 */
import { WIZARD_STEPS, type WizardStep } from "@concierge/core";
import { msg } from "@concierge/i18n";
import { getOnboarding, type Onboarding } from "@concierge/storage";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound } from "../http.ts";
import { csrfField, head } from "../layout.ts";
import { WIZARD_PATH } from "../wizard-return.ts";

export type { Onboarding };

/** Each step's name in the stepper. */
const STEP_LABELS: Record<WizardStep, string> = {
  basics: msg("wizard-step-basics"),
  channels: msg("wizard-step-channels"),
  notifications: msg("wizard-step-notifications"),
  replies: msg("wizard-step-replies"),
  launch: msg("wizard-step-launch"),
};

/** A step's own address. */
export function stepPath(step: WizardStep): string {
  return `${WIZARD_PATH}/${step}`;
}

/**
 * The step a tenant is on: the first one not completed (wizard_step counts the completed ones;
 * after step 4 it is launch, which completes only by launching).
 */
export function currentStep(ob: Pick<Onboarding, "wizardStep">): WizardStep {
  const i = Math.max(0, Math.min(ob.wizardStep, WIZARD_STEPS.length - 1));
  return WIZARD_STEPS[i]!;
}

/** 1-based position of a step ("Step 2 of 5"). */
export function stepNumber(step: WizardStep): number {
  return WIZARD_STEPS.indexOf(step) + 1;
}

// One read of the tenant's progress per request: the gate, the handler and the frame all need it.
const loaded = new WeakMap<AuthedCtx, Onboarding>();

/** The signed-in tenant's onboarding state (404 when the tenant is gone). */
export async function loadWizard(c: AuthedCtx): Promise<Onboarding> {
  const cached = loaded.get(c);
  if (cached) return cached;
  const ob = await getOnboarding(c.env.DB, c.session.tenantId);
  if (!ob) notFound();
  loaded.set(c, ob);
  return ob;
}

/** Forgets this request's read after a save, so a page rendered after it shows the new state. */
export function forgetWizard(c: AuthedCtx): void {
  loaded.delete(c);
}

function stepper(c: AuthedCtx, step: WizardStep, ob: Onboarding): Html {
  const { t } = c;
  const here = WIZARD_STEPS.indexOf(step);
  return html`<nav class="wizard-steps" aria-label="${t("wizard-steps-label")}"><ol>
${WIZARD_STEPS.map((s, i) => {
  const label = t(STEP_LABELS[s]);
  if (i === here) return html`<li class="wizard-step current" aria-current="step"><span>${label}</span></li>`;
  // Completed steps (and the one being worked on) can be revisited; later ones cannot be skipped to.
  if (i <= currentIndex(ob))
    return html`<li class="wizard-step done"><a href="${stepPath(s)}">${label}</a></li>`;
  return html`<li class="wizard-step"><span>${label}</span></li>`;
})}
</ol></nav>`;
}

const currentIndex = (ob: Onboarding) => WIZARD_STEPS.indexOf(currentStep(ob));

/**
 * A wizard step's page: the chrome, "Step N of 5", the stepper, a Back link (to the previous
 * step; the first step has none), the step's title, notice or error, and its body.
 */
export function wizardPage(
  c: AuthedCtx,
  opts: { step: WizardStep; title: string; body: Html; notice?: string | null; error?: string | null },
): Html {
  return render(c, opts);
}

async function render(
  c: AuthedCtx,
  opts: { step: WizardStep; title: string; body: Html; notice?: string | null; error?: string | null },
): Promise<Awaited<Html>> {
  const { t } = c;
  const ob = await loadWizard(c);
  const n = stepNumber(opts.step);
  const previous = n > 1 ? WIZARD_STEPS[n - 2]! : null;
  return html`<!doctype html>
<html lang="${c.locale}">
${head(c, opts.title, c.session.csrfToken)}
<body class="wizard">
<a class="skip" href="#content">${t("skip-to-content")}</a>
<header class="top"><div class="bar">
  <span class="brand">Concierge</span>
  <div class="who">
    <a href="/admin">${t("wizard-leave")}</a>
    <form class="inline" method="post" action="/sign-out">${csrfField(c)}<button class="secondary" type="submit">${t("sign-out")}</button></form>
  </div>
</div></header>
<main id="content" class="wizard-main">
<p class="wizard-count">${t("wizard-step-of", { n, total: WIZARD_STEPS.length })}</p>
${stepper(c, opts.step, ob)}
${previous ? html`<p class="wizard-back"><a href="${stepPath(previous)}">${t("wizard-back")}</a></p>` : null}
<h1>${opts.title}</h1>
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : null}
${opts.error ? html`<p class="notice error" role="alert">${opts.error}</p>` : null}
${opts.body}
</main>
</body>
</html>`;
}
