// Secrets in request URLs never reach a log: the forward-address link's token, OAuth's code and
// state. Workers Logs records each request's URL, so every Worker's config removes query strings
// there (checks/test/observability.test.ts); our own lines (the one logger) redact every query
// value. Requests go through the dashboard's real entry point with its log lines captured.
import { describe, expect, it, vi } from "vitest";
import { app, get, signIn } from "./helpers.ts";

const SECRET = "SeCrEtValue";

/** Every line this isolate logs from here on (the logger writes to the console). */
function captureLogs(): string[] {
  const lines: string[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
  return lines;
}

describe("secrets in request URLs", () => {
  it("a verify link and OAuth callbacks with secrets in the query log none of them", async () => {
    const lines = captureLogs();
    try {
      // The forward-address confirmation link, valid or not.
      await app(`/email/verify?token=${SECRET}1`);
      // Google's callback with a code and a state nobody issued.
      await app(`/auth/google/callback?code=${SECRET}2&state=${SECRET}3`);
      // Instagram's callback: without this browser's state, then with Meta refusing the code.
      const s = await signIn();
      await get(s, `/admin/instagram/callback?code=${SECRET}4&state=${SECRET}5`);
      const start = await get(s, "/admin/instagram/start");
      const state =
        /__Host-concierge_igconnect=([^;]+)/.exec(start.headers.get("set-cookie") ?? "")?.[1] ?? "";
      expect(state).not.toBe("");
      const failed = await get(s, `/admin/instagram/callback?code=${SECRET}6&state=${state}`, {
        cookie: `${s.cookie}; __Host-concierge_igconnect=${state}`,
      });
      expect(failed.status).toBe(502);
      // The Discord bot install's callback, with a code that cannot be exchanged.
      await get(s, `/admin/discord/callback?code=${SECRET}7&state=${SECRET}8&guild_id=1`);
    } finally {
      vi.restoreAllMocks();
    }
    // Something was logged (the Graph refusal at least), and no secret in it.
    expect(lines.some((l) => l.includes("instagram.login_failed"))).toBe(true);
    expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
  });
});
