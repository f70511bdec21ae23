import { describe, expect, it } from "vitest";
import { classifyGraphError, graphFailure, parseRetryAfter, SEND_RETRY, sendRetryDelayMs } from "./graph.ts";
import { markWhatsAppRead } from "./whatsapp.ts";

/** Meta's documented Cloud API error body. */
function metaError(code: number, message: string, details: string, status: number, headers = {}) {
  return new Response(
    JSON.stringify({
      error: {
        message,
        type: "OAuthException",
        code,
        error_data: { messaging_product: "whatsapp", details },
        fbtrace_id: "AbCdEf123",
      },
    }),
    { status, headers },
  );
}

describe("classifyGraphError", () => {
  it.each([
    [429, 130429, "Cloud API throughput reached"],
    [400, 131056, "business/consumer pair rate limit"],
    [429, 80007, "WABA rate limit"],
    [429, 4, "app call limit"],
    [400, 613, "call rate limit"],
    [500, 131000, "something went wrong"],
    [503, 131016, "service unavailable"],
    [503, 2, "API service"],
  ])("retries HTTP %i code %i (%s)", (status, code) => {
    expect(classifyGraphError(status, code)).toBe("retryable");
  });

  it.each([
    [400, 131026, "undeliverable"],
    [400, 131051, "unsupported message type"],
    [400, 100, "invalid parameter"],
    [401, 190, "access token expired"],
    [403, 200, "permission"],
    [500, 3, "capability issue, sent as HTTP 500"],
    [400, 131048, "spam rate limit: a quality restriction"],
  ])("never retries HTTP %i code %i (%s)", (status, code) => {
    expect(classifyGraphError(status, code)).toBe("permanent");
  });

  it("names a closed customer-service window (WhatsApp 131047, Messenger/Instagram 10/2018278)", () => {
    expect(classifyGraphError(400, 131047)).toBe("outside_window");
    expect(classifyGraphError(400, 10, 2018278)).toBe("outside_window");
    expect(classifyGraphError(403, 10)).toBe("permanent");
  });

  it("falls back on the HTTP status for unknown codes and bodies that are not Graph JSON", () => {
    expect(classifyGraphError(502, null)).toBe("retryable");
    expect(classifyGraphError(500, 1)).toBe("retryable");
    expect(classifyGraphError(429, null)).toBe("retryable");
    expect(classifyGraphError(400, 999999)).toBe("permanent");
    expect(classifyGraphError(404, null)).toBe("permanent");
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-21T10:00:00Z");
  it("reads delay-seconds and HTTP dates, and ignores what is absent, unreadable or past", () => {
    expect(parseRetryAfter("7", now)).toBe(7);
    expect(parseRetryAfter(" 1.5 ", now)).toBe(2);
    expect(parseRetryAfter("Sat, 21 Nov 2026 10:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Sat, 21 Nov 2026 09:59:00 GMT", now)).toBeNull();
    expect(parseRetryAfter("0", now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe("graphFailure", () => {
  it("keeps Meta's code, details and Retry-After from the documented error body", async () => {
    const r = await graphFailure(
      metaError(130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.", 429, {
        "retry-after": "12",
      }),
    );
    expect(r).toEqual({
      ok: false,
      retryable: true,
      throttled: true,
      status: 429,
      code: 130429,
      reason: "(#130429) Rate limit hit: Cloud API message throughput has been reached.",
      retryAfterSeconds: 12,
    });
  });

  it("marks 131047 as outside the window, never retryable", async () => {
    const r = await graphFailure(
      metaError(
        131047,
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        400,
      ),
    );
    expect(r).toMatchObject({ ok: false, retryable: false, outsideWindow: true, code: 131047 });
  });

  it("marks rate limits as throttled; a pair-rate 131056 without Retry-After waits Meta's 6 s", async () => {
    const pair = await graphFailure(
      Response.json(
        {
          error: {
            message: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            type: "OAuthException",
            code: 131056,
            error_data: { messaging_product: "whatsapp", details: "Too many messages to this user." },
          },
        },
        { status: 400 },
      ),
    );
    expect(pair).toMatchObject({ retryable: true, throttled: true, code: 131056, retryAfterSeconds: 6 });
    const busy = await graphFailure(
      Response.json(
        { error: { message: "(#130429) Rate limit hit", code: 130429 } },
        {
          status: 429,
          headers: { "retry-after": "3" },
        },
      ),
    );
    expect(busy).toMatchObject({ retryable: true, throttled: true, retryAfterSeconds: 3 });
    const broken = await graphFailure(
      Response.json({ error: { message: "x", code: 131000 } }, { status: 500 }),
    );
    expect(broken.retryable).toBe(true);
    expect(broken.throttled).toBeUndefined();
  });

  it("treats a 5xx without a Graph body as retryable", async () => {
    const r = await graphFailure(new Response("<html>Bad gateway</html>", { status: 502 }));
    expect(r).toMatchObject({ ok: false, retryable: true, code: null, reason: "HTTP 502" });
  });
});

describe("sendRetryDelayMs", () => {
  it("backs off exponentially with jitter inside each step", () => {
    expect(sendRetryDelayMs(1, null, () => 0)).toBe(1_000);
    expect(sendRetryDelayMs(1, null, () => 1)).toBe(2_000);
    expect(sendRetryDelayMs(2, null, () => 0)).toBe(2_000);
    expect(sendRetryDelayMs(4, null, () => 1)).toBe(16_000);
  });

  it("never retries sooner than Retry-After", () => {
    expect(sendRetryDelayMs(1, 30, () => 1)).toBe(30_000);
    expect(sendRetryDelayMs(4, 1, () => 1)).toBe(16_000);
  });

  it("keeps a throttled send waiting past the last attempt, each wait capped", () => {
    expect(sendRetryDelayMs(SEND_RETRY.maxAttempts, 30, () => 0, true)).toBe(30_000);
    expect(sendRetryDelayMs(SEND_RETRY.maxAttempts + 10, null, () => 1, true)).toBe(SEND_RETRY.maxBackoffMs);
    expect(sendRetryDelayMs(SEND_RETRY.maxAttempts, null, () => 1, false)).toBeNull();
  });

  it("gives up after the last attempt, or when asked to wait longer than the cap", () => {
    expect(sendRetryDelayMs(SEND_RETRY.maxAttempts - 1, null)).not.toBeNull();
    expect(sendRetryDelayMs(SEND_RETRY.maxAttempts, null)).toBeNull();
    expect(sendRetryDelayMs(1, SEND_RETRY.maxRetryAfterMs / 1000 + 1)).toBeNull();
  });
});

describe("markWhatsAppRead", () => {
  function capture(status = 200, body: unknown = { success: true }) {
    const calls: { url: string; body: unknown }[] = [];
    const f = (async (url: string, init: RequestInit) => {
      calls.push({ url, body: JSON.parse(init.body as string) });
      return new Response(JSON.stringify(body), { status });
    }) as unknown as typeof fetch;
    return {
      calls,
      target: { baseUrl: "https://graph.test/v24.0", token: "t", phoneNumberId: "123", fetch: f },
    };
  }

  it("posts the documented read receipt, with the typing indicator only when asked", async () => {
    const { calls, target } = capture();
    expect(await markWhatsAppRead(target, "wamid.IN", true)).toEqual({ ok: true });
    expect(await markWhatsAppRead(target, "wamid.IN", false)).toEqual({ ok: true });
    expect(calls[0]).toEqual({
      url: "https://graph.test/v24.0/123/messages",
      body: {
        messaging_product: "whatsapp",
        status: "read",
        message_id: "wamid.IN",
        typing_indicator: { type: "text" },
      },
    });
    expect(calls[1]!.body).toEqual({ messaging_product: "whatsapp", status: "read", message_id: "wamid.IN" });
  });

  it("reports a Graph error instead of throwing", async () => {
    const { target } = capture(400, { error: { message: "Invalid parameter", code: 100 } });
    expect(await markWhatsAppRead(target, "wamid.X", true)).toMatchObject({ ok: false, code: 100 });
  });
});
