import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { conversationKey } from "@concierge/core";
import { personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  creditBalance,
  creditDebit,
  debitCredit,
  savePersona,
} from "@concierge/storage";
import { approvePersona, setBalance } from "@concierge/testing/tenant-fixtures";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it, vi } from "vitest";
import { BACKSTOP_MS } from "../src/conversation/accept.ts";
import type { ConversationDO } from "../src/conversation/object.ts";
import { SealedThread } from "../src/conversation/sealed.ts";
import type { ConversationStore } from "../src/conversation/store.ts";
import { alarmWatchingD1, BUFFERED, bufferedRows, inboundText, ingestApi, tenantApi } from "./helpers.ts";

// What a turn costs the conversation object's own storage (its SQL statements, through the real
// ingest RPC and the real alarm), and the 0 s buffer's turn that runs in the accepting invocation.

type Statement = {
  query: string;
  bindings: unknown[];
  cursor: SqlStorageCursor<Record<string, SqlStorageValue>>;
};

/** A statement on the history's rows (`history:<seq>[:<id>]` in `state`, store versions 7 and 8). */
const onHistory = (s: Statement, verb: "INSERT" | "SELECT" | "DELETE" | "UPDATE") =>
  s.query.startsWith(verb) && (s.query.includes("'history:") || String(s.bindings[0]).startsWith("history:"));
/** A statement on the de-duplication ids' rows (`seen:<id>` in `state`). */
const onSeen = (s: Statement) => String(s.bindings[0]).startsWith("seen:") || s.query.includes("'seen:'");
/** A statement on the buffered messages' rows (`pending:<seq>[:<id>]` in `state`, store versions 7, 8). */
const onBuffered = (s: Statement, verb: "INSERT" | "SELECT" | "DELETE") =>
  s.query.startsWith(verb) && s.query.includes("'pending:");
/** A write of one of the state values the store names (`StateKey`): no id, entry or message. */
const onStateValue = (s: Statement) =>
  /^(INSERT INTO state|DELETE FROM state)/.test(s.query) &&
  !onSeen(s) &&
  !onHistory(s, "INSERT") &&
  !onHistory(s, "DELETE") &&
  !onBuffered(s, "INSERT") &&
  !onBuffered(s, "DELETE");

/** Every statement the object's store runs from now on, with its cursor (rows read and written). */
async function recordStatements(stub: DurableObjectStub<ConversationDO>): Promise<Statement[]> {
  const log: Statement[] = [];
  await runInDurableObject(stub, (instance) => {
    const store = (instance as unknown as { host: { store: { sql: SqlStorage } } }).host.store;
    const real = store.sql;
    store.sql = {
      exec: (query: string, ...bindings: SqlStorageValue[]) => {
        const cursor = real.exec(query, ...bindings);
        log.push({ query: query.trim(), bindings, cursor });
        return cursor;
      },
    } as unknown as SqlStorage;
  });
  return log;
}

const rowsWritten = (log: Statement[]) => log.reduce((n, s) => n + s.cursor.rowsWritten, 0);

let phone = 0;
/** A tenant of its own (no Discord install) with one WhatsApp number and these rules. */
async function tenantWith(rules: unknown[], waitSeconds: number) {
  const created = await tenantApi.createTenant({ name: "Quiet Bakery", locale: "en-US", currency: "USD" });
  if (!created.ok) throw new Error(created.error.message);
  phone += 1;
  const account = await createChannelAccount(env.DB, {
    tenantId: created.tenantId,
    channel: "whatsapp",
    externalId: `79${String(Date.now() % 1e9).padStart(9, "0")}${phone}`,
  });
  const saved = await tenantApi.saveReplyConfig(created.tenantId, account.id, {
    wait_seconds: waitSeconds,
    rules,
    default_rule: { response: { kind: "canned", text: "Thanks!" } },
  });
  expect(saved).toMatchObject({ ok: true });
  return {
    tenantId: created.tenantId,
    accountId: account.id,
    externalId: account.externalId,
    send: async (customer: string, text: string) => {
      const r = await ingestApi.ingest([inboundText(account.externalId, customer, text)]);
      if (!r.ok) throw new Error(r.error.message);
      return r.results;
    },
    stub: (customer: string) =>
      env.CONVERSATIONS.get(
        env.CONVERSATIONS.idFromName(`${created.tenantId}/${account.id}/${customer}`),
      ) as DurableObjectStub<ConversationDO>,
  };
}

/** A customer of a tenant (5 s buffer, these rules) already answered once: "hello" → "Thanks!". */
async function answeredOnce(rules: unknown[]) {
  const t = await tenantWith(rules, 5);
  const customer = uniqueCustomer();
  const stub = t.stub(customer);
  await t.send(customer, "hello");
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  return { t, customer, stub };
}

const hours = {
  id: "hours",
  matcher: { kind: "static_text", keywords: ["hours"] },
  response: { kind: "canned", text: "Open 7 to 7." },
};

describe("the work of one turn in the conversation object", () => {
  it("a canned reply with no Discord inbox: no inbox item stored, no history read, wait_ms written once", async () => {
    const t = await tenantWith([hours], 5);
    const customer = uniqueCustomer();
    expect(await t.send(customer, "hello")).toMatchObject([{ status: "accepted" }]);
    const stub = t.stub(customer);
    // Seqs count from the time in ms, and a turn whose seqs cross a multiple of 50 also forgets
    // old ids (alarm.ts PRUNE_EVERY): this turn's are set to cross none (1001 to 1003).
    await runInDurableObject(stub, (_o, state) => {
      const c = state.storage.sql.exec(
        `UPDATE state SET k = 'pending:000000000001001:' || json_extract(v, '$.provider_message_id') WHERE ${BUFFERED}`,
      );
      c.toArray();
      expect(c.rowsWritten).toBe(1);
    });
    const log = await recordStatements(stub);
    expect(await t.send(customer, "and your hours?")).toMatchObject([{ status: "accepted" }]);
    expect(await t.send(customer, "today?")).toMatchObject([{ status: "accepted" }]);
    // The buffer's wait is the same for every message: read, never rewritten.
    const waitWrites = log.filter((s) => /INSERT INTO state/.test(s.query) && s.bindings[0] === "wait_ms");
    expect(waitWrites).toEqual([]);
    const accepts = log.length;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Open 7 to 7."]);
    const turn = log.slice(accepts);
    // The turn still remembers what was said, for a later AI reply, in its last message's row...
    const entry = turn.filter((s) => onHistory(s, "UPDATE") && s.query.startsWith("UPDATE state SET k = ?"));
    expect(entry.map((s) => s.cursor.rowsWritten)).toEqual([1]);
    // ...but a canned reply neither reads nor opens the history (writing its entry reads only the
    // newest entry's key, and the turn's last buffered row),
    expect(turn.filter((s) => onHistory(s, "SELECT") && !s.query.startsWith("SELECT MAX(k)"))).toEqual([]);
    // and with nowhere to relay it, nothing is sealed into the inbox queue, read back and deleted.
    expect(turn.filter((s) => /INSERT[^(]*relay_queue|DELETE FROM relay_queue/.test(s.query))).toEqual([]);
    // A history within its cap is not trimmed: no statement for it (conversation-store.test.ts
    // counts what a trim reads).
    // (A trim's range ends below an entry's key; the clear of a new conversation's empty history
    // runs to the range's end, and finds nothing.)
    const cuts = turn.filter(
      (s) => /^(DELETE|UPDATE OR REPLACE)/.test(s.query) && s.query.includes("k < 'history:"),
    );
    expect(cuts).toEqual([]);
    expect(rowsWritten(turn)).toBeGreaterThan(0);
    // Old de-duplication ids are forgotten when the conversation goes idle, not after every turn
    // (the statement reads every remembered id).
    const prunes = (from: number) =>
      log.slice(from).filter((s) => s.query.startsWith("DELETE FROM state") && onSeen(s));
    expect(prunes(accepts)).toEqual([]);
    const idle = log.length;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(prunes(idle)).toHaveLength(1);
  });

  it("a canned reply to a new customer writes 4 rows in the object beside its schema", async () => {
    const t = await tenantWith([hours], 5);
    const customer = uniqueCustomer();
    const stub = t.stub(customer);
    // The object's schema is created when it starts (conversation-store.test.ts counts it: 2).
    const log = await recordStatements(stub);
    await t.send(customer, "what are your hours?");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Open 7 to 7."]);
    // Its 5 s buffer (a 0 s one is never written), then as for a returning customer: its
    // buffered row (its id and the thread's ids in it), the turn's row (the thread's ids, a new
    // conversation's id and the outbox's `sending`), and the buffered row turned into the turn's
    // history entry (the message's id in its key).
    const state = log
      .filter((s) => onStateValue(s) && s.query.startsWith("INSERT"))
      .map((s) => s.bindings[0]);
    expect(state).toEqual(["wait_ms", "turn"]);
    expect(log.filter((s) => onSeen(s) && s.query.startsWith("INSERT"))).toEqual([]);
    expect(log.filter((s) => onHistory(s, "INSERT"))).toEqual([]);
    expect(rowsWritten(log)).toBe(4);
  });

  it("a canned reply in a conversation under way writes only what it needs: 3 rows in the object", async () => {
    const { t, customer, stub } = await answeredOnce([hours]);
    const log = await recordStatements(stub);
    const before = Date.now();
    await t.send(customer, "and your hours?");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Thanks!", "Open 7 to 7."]);
    const stateWrites = (key: string) => log.filter((s) => onStateValue(s) && s.bindings.includes(key));
    // The wait is measured without being stored: the reply ended it in the same turn.
    expect(stateWrites("awaiting_reply_since")).toEqual([]);
    const { wait } = (await env.DB.prepare(
      "SELECT reply_wait_ms AS wait FROM messages WHERE recipient_id = ? AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
    )
      .bind(customer)
      .first<{ wait: number }>())!;
    expect(wait).toBeGreaterThanOrEqual(0);
    expect(wait).toBeLessThanOrEqual(Date.now() - before + 1000);
    // The turn's outbox entry is in the turn's row: `sending`, then left as it is when the turn
    // finishes (no `sent`, nothing deleted); no row of the outbox table.
    const outboxWrites = log.filter((s) => /outbox/.test(s.query) && !s.query.startsWith("SELECT"));
    expect(outboxWrites.filter((s) => /^(INSERT|UPDATE)/.test(s.query))).toEqual([]);
    expect(rowsWritten(outboxWrites)).toBe(0);
    const turnRows = stateWrites("turn").map(
      (s) => JSON.parse(String(s.bindings[1])) as { outbox?: unknown },
    );
    // The turn's begin is staged until its outbox mark (store `beginTurn`): one write with both.
    expect(turnRows.map((r) => r.outbox)).toEqual([
      { status: "sending", attempts: 1, provider_message_id: null },
    ]);
    // One history entry for the turn (the message and its reply together), in the row that was
    // its message's.
    expect(log.filter((s) => onHistory(s, "INSERT"))).toEqual([]);
    const entry = log.filter((s) => onHistory(s, "UPDATE") && s.query.startsWith("UPDATE state SET k = ?"));
    expect(entry.map((s) => s.cursor.rowsWritten)).toEqual([1]);
    // The buffered row alone (no AUTOINCREMENT counter); accepting writes no state row (the
    // window's start is the buffered row's time until the turn takes it).
    expect(log.find((s) => onBuffered(s, "INSERT"))!.cursor.rowsWritten).toBe(1);
    // The turn's mark, its conversation, the activity time, the window's start and its outbox
    // entry: one row, written once, just before the send, and never deleted.
    expect(stateWrites("turn").map((s) => s.query.slice(0, 6))).toEqual(["INSERT"]);
    expect(rowsWritten(log.filter(onStateValue))).toBe(1);
    // What is left: its buffered row, the turn's row, and the buffered row turned into the
    // turn's history entry when the turn finishes (one UPDATE, one row; no `seen:` row: the
    // entry's key holds the id).
    const toSeen = log.filter((s) => s.query.startsWith("UPDATE OR REPLACE state") && onSeen(s));
    expect(rowsWritten(toSeen)).toBe(0);
    expect(rowsWritten(log)).toBe(3);
    // The history a later AI turn reads holds both turns, in order.
    const history = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM state WHERE k LIKE 'history:%'").one(),
    );
    expect(history.n).toBe(2);
  });

  it("a message delivered again is never answered twice: buffered, in the history's key, then a seen row once the conversation ended", async () => {
    const t = await tenantWith([hours], 5);
    const customer = uniqueCustomer();
    const stub = t.stub(customer);
    const deliver = async (m: ReturnType<typeof inboundText>) => {
      const r = await ingestApi.ingest([m]);
      if (!r.ok) throw new Error(r.error.message);
      return r.results.map((x) => x.status);
    };
    const first = inboundText(t.externalId, customer, "what are your hours?");
    const second = inboundText(t.externalId, customer, "and today?");
    expect(await deliver(first)).toEqual(["accepted"]);
    expect(await deliver(second)).toEqual(["accepted"]);
    // Buffered: the ids are in the buffered rows alone.
    expect(await deliver(first)).toEqual(["duplicate"]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // The turn over: the last message's row became the history entry (its id in the key), the
    // other's its `seen:` row.
    const keys = () =>
      runInDurableObject(stub, (_i, state) =>
        state.storage.sql
          .exec<{ k: string }>("SELECT k FROM state WHERE k LIKE 'history:%' OR k LIKE 'seen:%' ORDER BY k")
          .toArray()
          .map((r) => r.k.replace(/^history:\d{15}/, "history")),
      );
    expect(await keys()).toEqual([`history:${second.providerMessageId}`, `seen:${first.providerMessageId}`]);
    for (const m of [first, second]) expect(await deliver(m)).toEqual(["duplicate"]);
    // The conversation goes idle past its gap; the next message starts a new one, whose history
    // starts empty: the old entry's id is kept as a `seen:` row.
    await runInDurableObject(stub, (_i, state) => {
      const turn = JSON.parse(
        state.storage.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = 'turn'").one().v,
      );
      state.storage.sql.exec(
        "UPDATE state SET v = ? WHERE k = 'turn'",
        JSON.stringify({ ...turn, last_activity_at: Date.now() - 7 * 3_600_000 }),
      );
    });
    const third = inboundText(t.externalId, customer, "hello again");
    expect(await deliver(third)).toEqual(["accepted"]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keys()).toEqual([
      `history:${third.providerMessageId}`,
      `seen:${first.providerMessageId}`,
      `seen:${second.providerMessageId}`,
    ]);
    for (const m of [first, second, third]) expect(await deliver(m)).toEqual(["duplicate"]);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Open 7 to 7.", "Thanks!"]);
  });

  it("reads a history of entries from before (one message each) and after (one turn each), in order", async () => {
    const { stub } = await answeredOnce([hours]);
    const history = await runInDurableObject(stub, async (instance) => {
      const { host } = instance as unknown as { host: { env: typeof env; store: ConversationStore } };
      const thread = host.store.thread()!;
      const sealed = new SealedThread(host.env, host.store, thread);
      // As code before version 3 wrote it: one sealed message per row.
      const seal = (sealed as unknown as { seal(t: string, aad: string): Promise<string> }).seal.bind(sealed);
      const aad = `${thread.key}:history`;
      host.store.appendHistory(
        [
          await seal(JSON.stringify({ role: "user", content: "old question" }), aad),
          await seal(JSON.stringify({ role: "assistant", content: "old answer" }), aad),
        ],
        20,
      );
      await sealed.remember(
        [
          { role: "user", content: "new question" },
          { role: "assistant", content: "new answer" },
        ],
        20,
      );
      return sealed.history();
    });
    expect(history.map((m) => m.content)).toEqual([
      "hello",
      "Thanks!",
      "old question",
      "old answer",
      "new question",
      "new answer",
    ]);
  });

  it("a turn that does not reply keeps the customer's wait for the person who will", async () => {
    const handoff = {
      id: "person",
      matcher: { kind: "static_text", keywords: ["person"] },
      response: { kind: "handoff", text: "A person will be with you shortly." },
    };
    const { t, customer, stub } = await answeredOnce([handoff]);
    // The handoff's sentence is the hand-off, not an answer... and the customer's next message
    // meets a bot that stays silent: that turn ends without a reply, and the wait stays.
    await t.send(customer, "a person please");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const sentAt = Date.now();
    await t.send(customer, "hello? anyone?");
    const sentBy = Date.now();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const since = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = 'awaiting_reply_since'").toArray(),
    );
    expect(since).toHaveLength(1);
    // The third message's own send time (inboundText: when it was built).
    expect(Number(since[0]!.v)).toBeGreaterThanOrEqual(sentAt);
    expect(Number(since[0]!.v)).toBeLessThanOrEqual(sentBy);
    const r = await tenantApi.sendHumanReply(
      t.tenantId,
      t.accountId,
      customer,
      "Asha here!",
      "asha@example.com",
    );
    expect(r).toMatchObject({ ok: true });
    const person = (await env.DB.prepare(
      "SELECT action, reply_wait_ms AS wait FROM messages WHERE recipient_id = ? AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
    )
      .bind(customer)
      .first<{ action: string; wait: number | null }>())!;
    expect(person.action).toBe("human_reply");
    expect(person.wait).not.toBeNull();
    expect(person.wait!).toBeLessThan(60_000);
  });

  it("a changed buffer wait is written", async () => {
    const t = await tenantWith([hours], 5);
    const customer = uniqueCustomer();
    await t.send(customer, "one");
    const log = await recordStatements(t.stub(customer));
    await tenantApi.saveReplyConfig(t.tenantId, (await accountOf(t.tenantId)).id, {
      wait_seconds: 7,
      rules: [hours],
      default_rule: { response: { kind: "canned", text: "Thanks!" } },
    });
    await t.send(customer, "two");
    const waitWrites = log.filter((s) => /INSERT INTO state/.test(s.query) && s.bindings[0] === "wait_ms");
    expect(waitWrites.map((s) => s.bindings[1])).toEqual(["7000"]);
  });
});

async function accountOf(tenantId: string): Promise<{ id: string }> {
  return (await env.DB.prepare("SELECT id FROM channel_accounts WHERE tenant_id = ?")
    .bind(tenantId)
    .first<{ id: string }>())!;
}

describe("the turn's row before the turn's effects", () => {
  it("a turn with no reply writes its row before its metadata reaches D1", async () => {
    const t = await tenantWith([hours], 5);
    const saved = await tenantApi.saveReplyConfig(t.tenantId, t.accountId, {
      enabled: false,
      wait_seconds: 5,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Thanks!" } },
    });
    expect(saved).toMatchObject({ ok: true });
    const customer = uniqueCustomer();
    await t.send(customer, "hello?");
    const seen = await runInDurableObject(t.stub(customer), async (instance, state) => {
      const durableTurn = () =>
        state.storage.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = 'turn'").toArray()[0]?.v ?? null;
      // What the object holds as the turn's row at the moment the message's row goes to D1.
      const atInsert: (string | null)[] = [];
      await alarmWatchingD1(instance, (query) => {
        if (query.startsWith("INSERT OR IGNORE INTO messages")) atInsert.push(durableTurn());
      });
      const seq = bufferedRows(state).at(-1)?.seq ?? null;
      return { atInsert, seq };
    });
    // The message went (its turn is over) and its row reached D1 once, the turn's row durable by then.
    expect(seen.seq).toBeNull();
    expect(seen.atInsert).toHaveLength(1);
    const row = JSON.parse(seen.atInsert[0]!) as { turn_seq: number; conversation_id: string };
    const recorded = await env.DB.prepare(
      "SELECT action, conversation_id AS conversationId FROM messages WHERE sender_id = ? AND direction = 'inbound'",
    )
      .bind(customer)
      .first<{ action: string; conversationId: string }>();
    expect(recorded).toEqual({ action: "auto_reply_off", conversationId: row.conversation_id });
    expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
  });
});

describe("a run of a turn that another run finished meanwhile", () => {
  it("sends nothing, and leaves the next turn's retry state and alarm as they are", async () => {
    const t = await tenantWith([hours], 30);
    const customer = uniqueCustomer();
    expect(await t.send(customer, "what are your hours?")).toMatchObject([{ status: "accepted" }]);
    const stub = t.stub(customer);
    const later = Date.now() + 3_600_000;
    const after = await runInDurableObject(stub, async (instance, state) => {
      const store = (instance as unknown as { host: { store: ConversationStore } }).host.store;
      // The race, as a run stuck past STUCK_TURN_MS (object.ts) meets it when it first asks what
      // became of its turn: the run beside it has answered the turn and finished it, and the
      // customer's next message has begun a turn whose send waits for a retry an hour away.
      const real = store.outbox.bind(store);
      let raced = false;
      store.outbox = (id: string) => {
        if (!raced && id.startsWith("turn:")) {
          raced = true;
          store.finishTurn(Number(id.slice("turn:".length)));
          store.acceptMessage(
            {
              providerMessageId: "wamid.next",
              sealed: "v1.next",
              sentAt: Date.now(),
              kind: "text",
              hasAttachment: false,
            },
            Date.now(),
          );
          const next = store.pending(null).at(-1)!.seq;
          store.beginTurn(next, Date.now(), store.conversationId()!);
          store.set("attempts", "1");
          store.set("kept_reply", "v1.kept");
        }
        return real(id);
      };
      await state.storage.setAlarm(later);
      await (instance as unknown as { alarm(): Promise<void> }).alarm();
      store.outbox = real;
      return {
        raced,
        underWay: store.turnUnderWay(),
        next: store.pending(null).at(-1)?.seq,
        attempts: store.get("attempts"),
        kept: store.get("kept_reply"),
        alarm: await state.storage.getAlarm(),
      };
    });
    expect(after.raced).toBe(true);
    // Nothing sent twice: the turn read as sent (the other run's reply).
    expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
    // The next turn is untouched: under way, its retry's marks kept, its alarm where it was.
    expect(after.underWay).toBe(after.next);
    expect([after.attempts, after.kept]).toEqual(["1", "v1.kept"]);
    expect(after.alarm).toBe(later);
  });
});

describe("a 0 s reply buffer", () => {
  it("answers in the accepting invocation, with the alarm armed only as the backstop", async () => {
    const t = await tenantWith([hours], 0);
    const customer = uniqueCustomer();
    const stub = t.stub(customer);
    // The object exists before the message; stop its alarm from being the one that answers.
    let alarmAtAccept: number | null = null;
    await runInDurableObject(stub, (instance, state) => {
      const o = instance as unknown as { host: { arm(at: number): Promise<void> } };
      const arm = o.host.arm.bind(o.host);
      o.host.arm = async (at: number) => {
        alarmAtAccept ??= at - Date.now();
        await arm(at);
      };
      return state.storage.getAlarm();
    });
    const before = Date.now();
    expect(await t.send(customer, "your hours?")).toMatchObject([{ status: "accepted" }]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length > 0, { timeout: 5000 });
    // The first arm was the backstop, well ahead; the reply did not wait for it.
    expect(alarmAtAccept).toBeGreaterThan(BACKSTOP_MS - 1000);
    expect(Date.now() - before).toBeLessThan(BACKSTOP_MS);
    // A 0 s buffer is what an unset wait means: never written.
    expect(
      await runInDurableObject(stub, (_i, state) =>
        state.storage.sql.exec("SELECT v FROM state WHERE k = 'wait_ms'").toArray(),
      ),
    ).toEqual([]);
    // The turn re-armed the alarm for the idle gap: the backstop never fires.
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 60 * 60_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("a turn cut off between the durable accept and the turn is run by the backstop alarm, once", async () => {
    const t = await tenantWith([hours], 0);
    const customer = uniqueCustomer();
    const stub = t.stub(customer);
    // The invocation dies right after accepting: the turn it would have run never starts.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { turnNow: () => Promise<void> }).turnNow = () => Promise.resolve();
    });
    const before = Date.now();
    expect(await t.send(customer, "hours please")).toMatchObject([{ status: "accepted" }]);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + BACKSTOP_MS);
    expect(alarm).toBeLessThanOrEqual(Date.now() + BACKSTOP_MS);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Open 7 to 7."]);
    // The next alarm (the idle gap's) sends nothing more.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("an alarm never queues behind a turn in flight; past five minutes it runs beside one that hangs", async () => {
    const t = await tenantWith([hours], 0);
    const customer = uniqueCustomer();
    const stub = t.stub(customer);
    type Busy = { turnNow: () => Promise<void>; busySince: number | null };
    // A turn in flight (one that will not answer soon); the accepting invocation starts none.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as Busy).turnNow = () => Promise.resolve();
      (instance as unknown as Busy).busySince = Date.now();
    });
    expect(await t.send(customer, "hours please")).toMatchObject([{ status: "accepted" }]);
    const before = Date.now();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // It did not wait for that turn, nor run its own: it comes back a backstop later.
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + BACKSTOP_MS);
    // The turn has hung for six minutes: the alarm answers the customer, once.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as Busy).busySince = Date.now() - 6 * 60_000;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Open 7 to 7."]);
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as Busy).busySince = null;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("two messages at once: each is answered and recorded exactly once, never by two turns at a time", async () => {
    const t = await tenantWith([hours], 0);
    const customer = uniqueCustomer();
    const results = await Promise.all([t.send(customer, "hours one"), t.send(customer, "hours two")]);
    expect(results.flat().map((r) => r.status)).toEqual(["accepted", "accepted"]);
    const inbound = () =>
      env.DB.prepare(
        "SELECT provider_message_id AS id, action FROM messages WHERE tenant_id = ? AND direction = 'inbound'",
      )
        .bind(t.tenantId)
        .all<{ id: string; action: string }>();
    await vi.waitUntil(async () => (await inbound()).results.length === 2, { timeout: 5000 });
    // Let anything still in flight (a second turn, a backstop) finish.
    await new Promise((r) => setTimeout(r, 300));
    const rows = (await inbound()).results;
    expect(rows.map((r) => r.action)).toEqual(["canned_reply", "canned_reply"]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(2);
    const replies = await sentTo(env.SANDBOX_URL, customer);
    const outbound = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ? AND direction = 'outbound'",
    )
      .bind(t.tenantId)
      .first<{ n: number }>();
    // One turn for both, or one each: never a message answered twice.
    expect(replies.length).toBeGreaterThanOrEqual(1);
    expect(replies.length).toBeLessThanOrEqual(2);
    expect(outbound?.n).toBe(replies.length);
    expect(await runInDurableObject(t.stub(customer), (_i, state) => bufferedRows(state).length)).toBe(0);
  });
});

describe("an AI turn's debit and the persona", () => {
  const aiDefault = {
    id: "ask",
    matcher: { kind: "static_text", keywords: ["ask"] },
    response: { kind: "prompt", text: "Answer." },
  };

  it("a debit left by an attempt that died is given back when the persona is no longer approved", async () => {
    const t = await tenantWith([aiDefault], 5);
    await approvePersona(env.DB, t.tenantId, { kind: "raw", prompt: "You are the bakery's assistant." });
    await setBalance(env.DB, t.tenantId, 5);
    const customer = uniqueCustomer();
    expect(await t.send(customer, "ask: do you deliver?")).toMatchObject([{ status: "accepted" }]);
    // The first attempt took its credit and died before answering...
    const seq = await runInDurableObject(t.stub(customer), (_o, state) => bufferedRows(state).at(-1)!.seq);
    const ref = `ai:${conversationKey(t.tenantId, t.accountId, customer)}:turn:${seq}:0`;
    expect(await debitCredit(env.DB, t.tenantId, ref)).toEqual({ ok: true });
    expect(await creditBalance(env.DB, t.tenantId)).toBe(4);
    // ...and the persona was edited meanwhile (pending its safety check again).
    const edited = { kind: "raw", prompt: "You are the bakery's new assistant." } as const;
    await savePersona(env.DB, t.tenantId, edited, await personaHash(edited));
    expect(await runDurableObjectAlarm(t.stub(customer))).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
    expect(await creditDebit(env.DB, t.tenantId, ref)).toMatchObject({ restored: true });
    expect(await creditBalance(env.DB, t.tenantId)).toBe(5);
    const row = await env.DB.prepare(
      "SELECT action FROM messages WHERE tenant_id = ? AND direction = 'inbound'",
    )
      .bind(t.tenantId)
      .first<{ action: string }>();
    expect(row?.action).toBe("ai_paused_persona");
  });

  it("an AI turn writes its row as soon as it plans to call the model, then again with its outbox mark", async () => {
    const t = await tenantWith([aiDefault], 5);
    await approvePersona(env.DB, t.tenantId, { kind: "raw", prompt: "You are the bakery's assistant." });
    await setBalance(env.DB, t.tenantId, 5);
    const customer = uniqueCustomer();
    const stub = t.stub(customer);
    const log = await recordStatements(stub);
    await t.send(customer, "ask: do you deliver?");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    // Unlike a canned reply's (staged until its outbox mark), the turn's row is written as soon as
    // the turn knows it will call the model, before the debit; then again with `sending`.
    const turnRows = log
      .filter((x) => x.query.startsWith("INSERT INTO state") && x.bindings[0] === "turn")
      .map((x) => JSON.parse(String(x.bindings[1])) as { turn_seq: number; outbox?: { status: string } });
    expect(turnRows.map((r) => r.outbox?.status)).toEqual([undefined, "sending"]);
    expect(turnRows[0]!.turn_seq).toBe(turnRows[1]!.turn_seq);
  });

  it("with a 0 s buffer an approved persona's reply takes exactly one credit", async () => {
    const t = await tenantWith([aiDefault], 0);
    await approvePersona(env.DB, t.tenantId, { kind: "raw", prompt: "You are the bakery's assistant." });
    await setBalance(env.DB, t.tenantId, 3);
    const customer = uniqueCustomer();
    await t.send(customer, "ask: are you open?");
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length > 0, { timeout: 5000 });
    expect(await creditBalance(env.DB, t.tenantId)).toBe(2);
  });
});
