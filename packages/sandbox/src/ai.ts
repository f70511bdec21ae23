import { lexicalEmbedding } from "@concierge/ai";

/**
 * A fake OpenAI-compatible server (chat completions and embeddings) with a fixed latency per
 * call kind, failures on demand, a record of every call's start and end, and the exact body of
 * recent chat requests (so a test can compare what a "View prompt" panel shows with what the
 * model received, byte for byte). The scan and the reply are told apart by model, as the pipeline
 * uses the small model for the scan.
 */
export type AiCall = {
  kind: "generate" | "classify" | "embed";
  model: string;
  startedAt: number;
  endedAt: number;
  messages: number;
  /** The last user message (or the embedded texts): the fake outside world may keep it. */
  userText: string;
};

/** One chat request as it arrived: `body` is the raw request body, byte for byte. */
export type AiRequest = {
  /** 1, 2, … in arrival order (never reused until a reset). */
  seq: number;
  kind: "generate" | "classify";
  model: string;
  at: number;
  body: string;
};

/** Enough for any test's recent calls; older bodies go so a long `npm start` stays small. */
const MAX_REQUESTS = 500;

export type FakeAiSettings = {
  generateLatencyMs: number;
  classifyLatencyMs: number;
  /** Model names that count as the small (classification) model. */
  smallModels: string[];
  /** The next N chat calls answer 500. */
  failNext: number;
};

const FLAGGED =
  /ignore (all |any |the )?(previous|prior|above) (instructions|rules)|reveal (your|the) (prompt|instructions)/i;

// Like a real model following the envelope (and like the offline provider): a customer asking
// for a person is handed off with the sentinel.
const ASKS_FOR_PERSON = /\b(human|real person|a person|agent|manager|someone from (the|your) team)\b/i;

export class FakeAi {
  readonly calls: AiCall[] = [];
  readonly requests: AiRequest[] = [];
  private seq = 0;
  settings: FakeAiSettings = {
    generateLatencyMs: 0,
    classifyLatencyMs: 0,
    smallModels: ["@cf/meta/llama-3.1-8b-instruct-fast"],
    failNext: 0,
  };

  configure(s: Partial<FakeAiSettings>): void {
    this.settings = { ...this.settings, ...s };
  }

  reset(): void {
    this.calls.length = 0;
    this.requests.length = 0;
    this.seq = 0;
    this.settings = { ...this.settings, generateLatencyMs: 0, classifyLatencyMs: 0, failNext: 0 };
  }

  /** Chat completions; `raw` is the request body as received, kept for `requests`. */
  async chat(raw: string): Promise<{ status: number; body: unknown }> {
    const body = JSON.parse(raw) as { model: string; messages: { role: string; content: string }[] };
    const small = this.settings.smallModels.includes(body.model);
    const startedAt = Date.now();
    this.seq += 1;
    this.requests.push({
      seq: this.seq,
      kind: small ? "classify" : "generate",
      model: body.model,
      at: startedAt,
      body: raw,
    });
    if (this.requests.length > MAX_REQUESTS) this.requests.splice(0, this.requests.length - MAX_REQUESTS);
    await new Promise((r) =>
      setTimeout(r, small ? this.settings.classifyLatencyMs : this.settings.generateLatencyMs),
    );
    const userText = [...body.messages].reverse().find((m) => m.role === "user")?.content ?? "";
    this.calls.push({
      kind: small ? "classify" : "generate",
      model: body.model,
      startedAt,
      endedAt: Date.now(),
      messages: body.messages.length,
      userText,
    });
    if (this.settings.failNext > 0) {
      this.settings.failNext -= 1;
      return { status: 500, body: { error: { message: "The server had an error", type: "server_error" } } };
    }
    const content = small
      ? FLAGGED.test(userText)
        ? "unsafe"
        : "safe"
      : ASKS_FOR_PERSON.test(userText)
        ? "[sandbox AI] I'll ask a person from our team to help you with this. [[HANDOFF]]"
        : `[sandbox AI] Thanks for your message. (${body.messages.length - 2} earlier messages in context)`;
    return {
      status: 200,
      body: {
        id: `chatcmpl-${this.calls.length}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      },
    };
  }

  embed(body: { model: string; input: string | string[] }): { status: number; body: unknown } {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const now = Date.now();
    this.calls.push({
      kind: "embed",
      model: body.model,
      startedAt: now,
      endedAt: now,
      messages: inputs.length,
      userText: inputs.join("\n"),
    });
    return {
      status: 200,
      body: {
        object: "list",
        model: body.model,
        data: inputs.map((t, index) => ({ object: "embedding", index, embedding: lexicalEmbedding(t) })),
      },
    };
  }
}
