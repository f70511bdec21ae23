import { describe, expect, it } from "vitest";
import { AiTimeoutError, DEFAULT_MODELS } from "./models.ts";
import { openAiProvider } from "./openai.ts";
import { createAiProvider } from "./select.ts";
import { workersAiProvider } from "./workers-ai.ts";

function fakeServer(handler: (path: string, body: Record<string, unknown>) => unknown) {
  const calls: { url: string; body: Record<string, unknown>; auth: string | null }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    const body = JSON.parse(init.body as string);
    calls.push({ url, body, auth: new Headers(init.headers).get("authorization") });
    return Response.json(handler(new URL(url).pathname, body));
  }) as unknown as typeof fetch;
  return { f, calls };
}

describe("openAiProvider", () => {
  it("speaks the chat completions and embeddings wire format", async () => {
    const { f, calls } = fakeServer((path) =>
      path.endsWith("/chat/completions")
        ? { choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }] }
        : {
            data: [
              { embedding: [0, 1], index: 1 },
              { embedding: [1, 0], index: 0 },
            ],
          },
    );
    const ai = openAiProvider({
      baseUrl: "http://ollama.test/v1/",
      apiKey: "k",
      models: DEFAULT_MODELS,
      fetch: f,
    });
    expect(await ai.generate({ system: "sys", messages: [{ role: "user", content: "hello" }] })).toEqual({
      text: "Hi!",
    });
    expect(calls[0]).toMatchObject({
      url: "http://ollama.test/v1/chat/completions",
      auth: "Bearer k",
      body: {
        model: DEFAULT_MODELS.reply,
        messages: [
          { role: "system", content: "sys" },
          { role: "user", content: "hello" },
        ],
      },
    });
    expect(await ai.embed(["a", "b"])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(calls[1]!.body).toEqual({ model: DEFAULT_MODELS.embedding, input: ["a", "b"] });
  });

  it("gives up on a server that does not answer in time", async () => {
    const hang = ((_u: string, init: RequestInit) =>
      new Promise((_, reject) =>
        init.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
      )) as unknown as typeof fetch;
    const ai = openAiProvider({ baseUrl: "http://x", models: DEFAULT_MODELS, fetch: hang, timeoutMs: 30 });
    await expect(ai.generate({ system: "s", messages: [] })).rejects.toBeInstanceOf(AiTimeoutError);
  });
});

describe("workersAiProvider", () => {
  it("calls the binding with the configured models and reads its documented answers", async () => {
    const runs: [string, Record<string, unknown>][] = [];
    const ai = workersAiProvider({
      run: async (model, input) => {
        runs.push([model, input]);
        return model.includes("bge") ? { shape: [1, 2], data: [[0.6, 0.8]] } : { response: "ok" };
      },
    });
    expect(await ai.classify({ system: "s", messages: [{ role: "user", content: "x" }] })).toEqual({
      text: "ok",
    });
    expect(runs[0]![0]).toBe(DEFAULT_MODELS.small);
    expect(await ai.embed(["x"])).toEqual([[0.6, 0.8]]);
    expect(runs[1]).toEqual([DEFAULT_MODELS.embedding, { text: ["x"] }]);
  });
});

describe("createAiProvider", () => {
  it("defaults to offline and refuses a provider it cannot build, with a clear error", () => {
    expect(createAiProvider({}).name).toBe("offline");
    expect(() => createAiProvider({ AI_PROVIDER: "workers-ai" })).toThrow(/AI binding/);
    expect(() => createAiProvider({ AI_PROVIDER: "openai" })).toThrow(/OPENAI_BASE_URL/);
    expect(() => createAiProvider({ AI_PROVIDER: "gpt" })).toThrow(/unknown AI_PROVIDER/);
  });
});
