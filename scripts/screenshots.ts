// `npm run screenshots`: every dashboard and public page at 1280×800 and 375×812, into
// .local/screenshots/. Runs the whole local stack on a throwaway state directory, signs in through
// the development sign-in, gives the tenant data on every page, and fails (exit 1) when a page
// scrolls horizontally or its navigation is hidden, cut off or covered. The operator panel's pages
// (/manage) too, signed in through the sandbox's Cloudflare Access.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser } from "@concierge/testing/browser";
import {
  accessSignIn,
  dashboardPages,
  devSignIn,
  layoutProblems,
  managePages,
  seedShowcase,
  seedShowcaseExtras,
  seedWizardThroughReplies,
} from "@concierge/testing/dashboard";
import { root, startStack } from "./stack.ts";

const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 375, height: 812 },
];
const outDir = path.join(root, ".local", "screenshots");
const persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-screenshots-"));
const email = "owner@chai.example";
const phoneNumberId = "100200300400599";

mkdirSync(outDir, { recursive: true });
console.log("starting the local stack…");
const [stack, browser] = await Promise.all([
  startStack({ persistDir, demoWaitSeconds: 0, quiet: true }),
  launchBrowser(),
]);
const problems: string[] = [];
try {
  const setup = await browser.newPage();
  await devSignIn(setup, stack.urls.dashboard, { email, business: "new", businessName: "Chai & Co." });
  await setup.close();
  const user = await stack.db
    .prepare("SELECT tenant_id AS tenantId FROM users WHERE provider = 'dev' AND subject = ?")
    .bind(email)
    .first<{ tenantId: string }>();
  if (!user) throw new Error("the development sign-in made no user");
  const { accountId } = await seedShowcase(stack.db, user.tenantId, { phoneNumberId });
  // The pages that show one record: an email subdomain's routing, a receipt, a checkout, a
  // data deletion request's status.
  const ids = await seedShowcaseExtras(stack.db, user.tenantId);
  // Through step 4 of the onboarding wizard, as a café, and not launched: every wizard step can
  // be shown (the overview then shows its "Finish setting up" card too).
  await seedWizardThroughReplies(stack.db, user.tenantId);
  // One customer message without a matching rule: an AI draft waits on the approvals page.
  await fetch(`${stack.urls.sandbox}/api/whatsapp/send`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      phoneNumberId,
      from: "919800000001",
      name: "Asha",
      text: "Do you have oat milk?",
    }),
  });
  for (let i = 0; i < 100; i++) {
    const row = await stack.db
      .prepare("SELECT COUNT(*) AS n FROM approvals WHERE tenant_id = ? AND status = 'pending'")
      .bind(user.tenantId)
      .first<{ n: number }>();
    if (row && row.n > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  for (const viewport of VIEWPORTS) {
    const signedOut = await browser.newContext({ viewport });
    const signedIn = await browser.newContext({ viewport });
    const login = await signedIn.newPage();
    await devSignIn(login, stack.urls.dashboard, { email });
    await login.close();
    for (const p of dashboardPages(accountId, "hours", ids)) {
      const page = await (p.signedIn ? signedIn : signedOut).newPage();
      const res = await page.goto(`${stack.urls.dashboard}${p.path}`);
      await page.waitForLoadState("networkidle");
      const file = path.join(outDir, `${p.name}-${viewport.width}x${viewport.height}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const found = await layoutProblems(page);
      const status = res?.status() ?? 0;
      if (status >= 500 || (status >= 400 && p.name !== "not-found")) found.push(`answered ${status}`);
      for (const f of found) problems.push(`${p.name} at ${viewport.width}px: ${f}`);
      console.log(`${found.length ? "✗" : "✓"} ${path.relative(root, file)}`);
      await page.close();
    }
    await signedIn.close();
    await signedOut.close();
    const operator = await browser.newContext({ viewport });
    const access = await operator.newPage();
    await accessSignIn(access, stack.urls.dashboard, "operator@chai.example");
    await access.close();
    for (const p of managePages(user.tenantId)) {
      const page = await operator.newPage();
      const res = await page.goto(`${stack.urls.dashboard}${p.path}`);
      await page.waitForLoadState("networkidle");
      const file = path.join(outDir, `${p.name}-${viewport.width}x${viewport.height}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const found = await layoutProblems(page);
      const status = res?.status() ?? 0;
      if (status !== 200) found.push(`answered ${status}`);
      for (const f of found) problems.push(`${p.name} at ${viewport.width}px: ${f}`);
      console.log(`${found.length ? "✗" : "✓"} ${path.relative(root, file)}`);
      await page.close();
    }
    await operator.close();
  }
} finally {
  await browser.close();
  await stack.dispose();
  rmSync(persistDir, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`\n${problems.length} layout problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(
  `\nAll pages fit at ${VIEWPORTS.map((v) => `${v.width}px`).join(" and ")}; screenshots in ${path.relative(root, outDir)}/`,
);
