// The 15-minute cron runs its jobs each on its own: one that throws neither stops the others nor
// hides its failure from the recorded run.
import { describe, expect, it } from "vitest";
import { runJobs } from "../src/crons.ts";

describe("runJobs", () => {
  it("runs every job when one throws, then throws one error naming the failed ones", async () => {
    const ran: string[] = [];
    const job = (name: string, fails = false) =>
      [
        name,
        async () => {
          ran.push(name);
          if (fails) throw new Error(`${name} broke`);
        },
      ] as const;
    await expect(
      runJobs([job("expire"), job("safety", true), job("notices"), job("digests", true)]),
    ).rejects.toThrow("cron jobs failed: safety, digests");
    expect(ran).toEqual(["expire", "safety", "notices", "digests"]);
    await expect(runJobs([job("expire"), job("digests")])).resolves.toBeUndefined();
  });
});
