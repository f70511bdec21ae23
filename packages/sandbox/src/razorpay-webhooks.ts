import { createHmac } from "node:crypto";

/**
 * Razorpay's webhook deliveries, as the sandbox plays them: every event is a JSON envelope
 * (`{ entity: "event", account_id, event, contains, payload, created_at }`) POSTed to the configured
 * URL with `X-Razorpay-Signature` (hex HMAC-SHA256 of the exact body bytes, keyed with the webhook
 * secret) and `X-Razorpay-Event-Id` (the same on every retry, copy and replay of that event).
 * Any non-2xx answer, a network error or no answer within 5 s is retried with a short backoff, the
 * way Razorpay retries (its real schedule spans 24 hours; the sandbox's is seconds).
 *
 * Delivery modes, for the whole sandbox or for one order / subscription / payment (`target`), so
 * tests running side by side do not change each other's deliveries:
 * - `normal`: the events of one state change are sent one after another, in order;
 * - `duplicate`: each event is sent `copies` times at once (same id, same body);
 * - `reorder`: the events of one state change are sent last first;
 * - `delay`: sent after `ms` milliseconds;
 * - `hold`: queued until `flush()` (optionally last first);
 * and `replay(eventId)` sends an earlier event again, byte for byte.
 */

export type DeliveryMode = "normal" | "duplicate" | "reorder" | "delay" | "hold";
export const DELIVERY_MODES: readonly DeliveryMode[] = ["normal", "duplicate", "reorder", "delay", "hold"];

export type ModeSetting = {
  mode: DeliveryMode;
  /** duplicate: how many copies of each event (default 2). */
  copies?: number;
  /** delay: milliseconds before sending (default 1000). */
  ms?: number;
};

/** Ids an event is about; a mode with a target applies to events about that id. */
export type EventRefs = {
  order?: string;
  payment?: string;
  subscription?: string;
  refund?: string;
};

export type Delivery = {
  /** Epoch milliseconds when the attempt finished. */
  at: number;
  /** "send": first attempt; "retry"; "copy" (duplicate mode); "replay"; "flush" (after hold). */
  kind: "send" | "retry" | "copy" | "replay" | "flush";
  /** The HTTP status answered, or null for a network error or timeout. */
  status: number | null;
  error: string | null;
};

export type EventState = "held" | "scheduled" | "sending" | "delivered" | "failed" | "no_url";

export type WebhookEvent = {
  id: string;
  event: string;
  contains: string[];
  /** The exact bytes sent (UTF-8), the ones the signature covers. */
  body: string;
  signature: string;
  /** The headers every delivery of this event carries. */
  headers: Record<string, string>;
  refs: EventRefs;
  /** Unix seconds, as in the envelope. */
  createdAt: number;
  state: EventState;
  deliveries: Delivery[];
};

/** One event to send: its name and payload (`{ <name>: { entity } }`), built at the state change. */
export type EventSpec = {
  event: string;
  payload: Record<string, { entity: unknown }>;
  /** Defaults to the payload's names, in order. */
  contains?: string[];
  refs: EventRefs;
};

const TIMEOUT_MS = 5000;
const MAX_LOG = 5000;
const DEFAULT_RETRY_DELAYS_MS = [250, 1000, 3000];

export class RazorpayWebhooks {
  readonly log: WebhookEvent[] = [];
  url: string;
  /** Waits before each retry; one entry per retry. */
  retryDelaysMs: number[] = [...DEFAULT_RETRY_DELAYS_MS];
  private readonly secret: () => string;
  private readonly accountId: string;
  private readonly newId: () => string;
  private readonly modes = new Map<string, ModeSetting>();
  private held: WebhookEvent[] = [];
  /** Pending waits (retries, delays); reset() and close() run them early, as no-ops. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  /** Bumped by reset(): deliveries started before it record nothing. */
  private epoch = 0;

  constructor(opts: { url: string; secret: () => string; accountId: string; newId: () => string }) {
    this.url = opts.url;
    this.secret = opts.secret;
    this.accountId = opts.accountId;
    this.newId = opts.newId;
  }

  /** The mode for events about `target` (or for all events without a more specific one). */
  setMode(setting: ModeSetting, target?: string): void {
    const key = target ?? "*";
    if (setting.mode === "normal" && target) this.modes.delete(key);
    else this.modes.set(key, setting);
  }

  modeSettings(): Record<string, ModeSetting> {
    return Object.fromEntries([["*", { mode: "normal" } as ModeSetting], ...this.modes]);
  }

  heldCount(target?: string): number {
    return this.held.filter((e) => !target || about(e.refs, target)).length;
  }

  /**
   * Records the events of one state change and sends them as the mode says. The promise settles
   * once each event's first attempt is over (retries go on in the background), or at once when
   * the events are held.
   */
  emit(specs: EventSpec[], now: number): Promise<WebhookEvent[]> {
    const events = specs.map((s) => this.build(s, now));
    this.log.push(...events);
    // A long `npm start` keeps the newest events only (held ones stay in the held queue).
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    const setting = this.modeFor(events);
    const epoch = this.epoch;
    switch (setting.mode) {
      case "hold":
        for (const e of events) e.state = "held";
        this.held.push(...events);
        return Promise.resolve(events);
      case "reorder":
        return this.sendInOrder([...events].reverse(), "send", epoch).then(() => events);
      case "duplicate": {
        const copies = Math.max(1, Math.min(50, Math.floor(setting.copies ?? 2)));
        return this.sendInOrder(events, "copy", epoch, copies).then(() => events);
      }
      case "delay": {
        for (const e of events) e.state = "scheduled";
        const ms = Math.max(0, Math.min(600_000, Math.floor(setting.ms ?? 1000)));
        return new Promise<void>((resolve) => this.later(ms, resolve))
          .then(() => this.sendInOrder(events, "send", epoch))
          .then(() => events);
      }
      default:
        return this.sendInOrder(events, "send", epoch).then(() => events);
    }
  }

  /** Sends the held events (all, or those about `target`), in order or last first. */
  async flush(opts: { target?: string; reverse?: boolean } = {}): Promise<WebhookEvent[]> {
    const out = this.held.filter((e) => !opts.target || about(e.refs, opts.target));
    this.held = this.held.filter((e) => !out.includes(e));
    const list = opts.reverse ? [...out].reverse() : out;
    await this.sendInOrder(list, "flush", this.epoch);
    return list;
  }

  /** Sends an earlier event again: same id, same bytes, same signature. */
  async replay(eventId: string): Promise<WebhookEvent | null> {
    const e = this.log.find((x) => x.id === eventId);
    if (!e) return null;
    await this.deliver(e, "replay", this.epoch);
    return e;
  }

  reset(): void {
    this.cancelTimers();
    this.log.length = 0;
    this.held = [];
    this.modes.clear();
    this.retryDelaysMs = [...DEFAULT_RETRY_DELAYS_MS];
  }

  close(): void {
    this.cancelTimers();
  }

  /** A new epoch makes every pending delivery a no-op; waiting callers are released at once. */
  private cancelTimers(): void {
    this.epoch += 1;
    const pending = [...this.timers];
    this.timers.clear();
    for (const [t, fn] of pending) {
      clearTimeout(t);
      fn();
    }
  }

  private modeFor(events: WebhookEvent[]): ModeSetting {
    for (const [key, setting] of this.modes) {
      if (key !== "*" && events.some((e) => about(e.refs, key))) return setting;
    }
    return this.modes.get("*") ?? { mode: "normal" };
  }

  private build(spec: EventSpec, now: number): WebhookEvent {
    const contains = spec.contains ?? Object.keys(spec.payload);
    const body = JSON.stringify({
      entity: "event",
      account_id: this.accountId,
      event: spec.event,
      contains,
      payload: spec.payload,
      created_at: now,
    });
    const id = this.newId();
    const signature = createHmac("sha256", this.secret()).update(body, "utf8").digest("hex");
    return {
      id,
      event: spec.event,
      contains,
      body,
      signature,
      headers: {
        "content-type": "application/json",
        "x-razorpay-signature": signature,
        "x-razorpay-event-id": id,
        "user-agent": "Razorpay-Webhook/v1",
      },
      refs: spec.refs,
      createdAt: now,
      state: "scheduled",
      deliveries: [],
    };
  }

  private async sendInOrder(
    events: WebhookEvent[],
    kind: Delivery["kind"],
    epoch: number,
    copies = 1,
  ): Promise<void> {
    for (const e of events) {
      if (copies > 1) await Promise.all(Array.from({ length: copies }, () => this.deliver(e, kind, epoch)));
      else await this.deliver(e, kind, epoch);
    }
  }

  /** One attempt; on failure, retries are scheduled (not awaited). */
  private async deliver(e: WebhookEvent, kind: Delivery["kind"], epoch: number, retry = 0): Promise<void> {
    if (epoch !== this.epoch) return;
    if (!this.url) {
      e.state = "no_url";
      return;
    }
    e.state = e.state === "delivered" ? "delivered" : "sending";
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(this.url, {
        method: "POST",
        headers: e.headers,
        body: e.body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error && err.name === "TimeoutError" ? "timeout (5 s)" : String(err);
    }
    if (epoch !== this.epoch) return;
    e.deliveries.push({ at: Date.now(), kind: retry > 0 ? "retry" : kind, status, error });
    if (error === null) {
      e.state = "delivered";
      return;
    }
    if (e.state !== "delivered") e.state = "failed";
    const wait = this.retryDelaysMs[retry];
    if (wait !== undefined) {
      this.later(wait, () => void this.deliver(e, kind, epoch, retry + 1));
    }
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref?.();
    this.timers.set(t, fn);
  }
}

function about(refs: EventRefs, id: string): boolean {
  return refs.order === id || refs.payment === id || refs.subscription === id || refs.refund === id;
}
