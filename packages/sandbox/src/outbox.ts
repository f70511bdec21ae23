/**
 * The sandbox's stand-in for Cloudflare Email Sending: locally the pipeline posts each raw MIME
 * message it would give the `send_email` binding here (EMAIL_OUTBOX_URL), and the outbox keeps it
 * for the sandbox page and the tests. Nothing is delivered anywhere.
 */
export type SentEmail = { id: string; from: string; to: string; raw: string; at: number };

const MAX_MESSAGES = 500;

export class FakeOutbox {
  readonly messages: SentEmail[] = [];
  private seq = 0;

  accept(body: string): { status: number; body: unknown } {
    let m: { from?: unknown; to?: unknown; raw?: unknown };
    try {
      m = JSON.parse(body) as typeof m;
    } catch {
      return { status: 400, body: { ok: false, error: { code: "invalid", message: "JSON body expected" } } };
    }
    if (typeof m.from !== "string" || typeof m.to !== "string" || typeof m.raw !== "string" || !m.raw) {
      return {
        status: 400,
        body: { ok: false, error: { code: "invalid", message: "from, to and raw are required" } },
      };
    }
    this.seq += 1;
    const id = `sandbox-${this.seq}`;
    this.messages.push({ id, from: m.from, to: m.to, raw: m.raw, at: Date.now() });
    if (this.messages.length > MAX_MESSAGES) this.messages.shift();
    return { status: 202, body: { ok: true, messageId: id } };
  }

  to(address: string | null): SentEmail[] {
    if (!address) return this.messages;
    const a = address.toLowerCase();
    return this.messages.filter((m) => m.to.toLowerCase() === a);
  }

  reset(): void {
    this.messages.length = 0;
  }
}
