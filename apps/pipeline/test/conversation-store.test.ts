import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { SendResult } from "@concierge/channels";
import type { Thread } from "@concierge/core";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { deliverOnce, earlierAttempt } from "../src/conversation/exactly-once.ts";
import { ConversationDO } from "../src/conversation/object.ts";
import { ConversationStore, MARK, SCHEMA_VERSION, turnOutboxId } from "../src/conversation/store.ts";
import { startTurn } from "../src/conversation/timing.ts";
import { BUFFERED, bufferedRows, newAccount } from "./helpers.ts";

// The conversation object's own SQLite (src/conversation/store.ts), in real Durable Objects:
// the versioned schema, de-duplication, the reply buffer and the outbox's transitions.

const TABLES = ["drafts", "history", "outbox", "pending", "relay_queue", "seen", "state"];
/** The state keys version 4 keeps in the turn's one row (`TurnState`). */
const TURN_KEYS = ["turn_seq", "last_activity_at", "conversation_id", "last_inbound_at"];

/** A conversation object nobody has used. */
function freshObject() {
  return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`store-test/${crypto.randomUUID()}`));
}

/**
 * The object's storage with the rows each statement wrote summed, as the bill counts them;
 * `take()` answers the rows written since the last `take()`.
 */
function meteredStorage(state: DurableObjectState) {
  let written = 0;
  const storage = {
    sql: {
      exec: (query: string, ...bindings: unknown[]) => {
        const cursor = state.storage.sql.exec(query, ...bindings);
        const rows = cursor.toArray();
        written += cursor.rowsWritten;
        return { toArray: () => rows, one: () => rows[0] };
      },
    } as unknown as SqlStorage,
    transactionSync: state.storage.transactionSync.bind(state.storage),
  };
  return {
    storage,
    take(): number {
      const n = written;
      written = 0;
      return n;
    },
  };
}

/**
 * After an upgrade from before version 4: every row is where it was, but for the state keys the
 * turn's row now holds, which gains the seq mark (just below the buffered message).
 */
function expectRowsKept(
  before: Record<string, Record<string, unknown>[]>,
  after: Record<string, Record<string, unknown>[]>,
  store: ConversationStore,
) {
  const folded = (state: Record<string, unknown>[]) => state.filter((r) => !TURN_KEYS.includes(String(r.k)));
  const byKey = (rows: Record<string, unknown>[]) =>
    [...rows].sort((a, b) => String(a.k).localeCompare(String(b.k)));
  const { seen, history, pending, ...kept } = before;
  const key = (prefix: string, seq: unknown) => `${prefix}:${String(seq).padStart(15, "0")}`;
  // A buffered row's value is JSON: read as such (the order of its fields is not the point).
  const parsed = (rows: Record<string, unknown>[]) =>
    rows.map((r) => (String(r.k).startsWith("pending:") ? { ...r, v: JSON.parse(String(r.v)) } : r));
  // Version 6 gives each buffered row the thread's ids, none in these (no `thread` value planted);
  // version 7 moves the ids, the history and the buffered messages into `state`, each row as it was.
  expect({ ...after, state: parsed(byKey(folded(after.state!).filter((r) => r.k !== "turn"))) }).toEqual({
    ...kept,
    state: byKey([
      ...folded(before.state!),
      ...seen!.map((r) => ({ k: `seen:${r.provider_message_id}`, v: String(r.at) })),
      ...(history ?? []).map((r) => ({ k: key("history", r.seq), v: r.sealed })),
      ...pending!.map(({ seq, ...r }) => ({ k: key("pending", seq), v: { ...r, thread: null } })),
    ]),
  });
  expect(store.turnState()).toEqual({ turn_seq: 0, conversation_id: "conv_old", last_activity_at: 123 });
}

/** Every row of each of `TABLES` the object has, by table. */
function rowsByTable(state: DurableObjectState): Record<string, Record<string, unknown>[]> {
  return Object.fromEntries(
    tableNames(state)
      .filter((t) => TABLES.includes(t))
      .map((t) => [t, state.storage.sql.exec(`SELECT * FROM ${t}`).toArray()]),
  );
}

function withStore<T>(fn: (store: ConversationStore, state: DurableObjectState) => T | Promise<T>) {
  return runInDurableObject(freshObject(), (_o, state) => fn(new ConversationStore(state.storage), state));
}

function schema(state: DurableObjectState) {
  return state.storage.sql
    .exec<{ type: string; name: string }>(
      "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
    )
    .toArray();
}

/** The storage with every SQL statement written down with its cursor (rows read and written). */
function cursors(storage: DurableObjectStorage) {
  const log: { query: string; cursor: SqlStorageCursor<Record<string, SqlStorageValue>> }[] = [];
  const sql = {
    exec: (query: string, ...bindings: SqlStorageValue[]) => {
      const cursor = storage.sql.exec(query, ...bindings);
      log.push({ query: query.trim(), cursor });
      return cursor;
    },
  } as unknown as SqlStorage;
  return { storage: { sql, transactionSync: storage.transactionSync.bind(storage) }, log };
}

/** The storage with every SQL statement written down. */
function recorded(storage: DurableObjectStorage) {
  const queries: string[] = [];
  const sql = {
    exec: (query: string, ...bindings: unknown[]) => {
      queries.push(query.trim());
      return storage.sql.exec(query, ...bindings);
    },
  } as unknown as SqlStorage;
  return { storage: { sql, transactionSync: storage.transactionSync.bind(storage) }, queries };
}

/**
 * The schema as objects had it before versions: no version mark, and (for the oldest) only the
 * tables of the first release; later releases added `history`, `drafts` and `relay_queue`.
 */
function plantUnversioned(state: DurableObjectState, tables: "oldest" | "latest") {
  const sql = state.storage.sql;
  sql.exec("DROP VIEW IF EXISTS schema_version");
  for (const t of TABLES) sql.exec(`DROP TABLE IF EXISTS ${t}`);
  sql.exec(`
    CREATE TABLE IF NOT EXISTS seen (provider_message_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS pending (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      provider_message_id TEXT NOT NULL,
      sealed TEXT NOT NULL,
      sent_at INTEGER NOT NULL,
      kind TEXT NOT NULL,
      has_attachment INTEGER NOT NULL,
      accepted_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS outbox (
      turn_id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      provider_message_id TEXT,
      updated_at INTEGER NOT NULL
    );
  `);
  if (tables === "latest") {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, sealed TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS drafts (
        approval_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, reply_to TEXT NOT NULL, created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS relay_queue (
        id TEXT PRIMARY KEY, sealed TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL
      );
    `);
    sql.exec("INSERT INTO history (sealed) VALUES ('v1.old-history')");
    sql.exec("INSERT INTO drafts VALUES ('apr_old', 'v1.old-draft', 'wamid.old', 1)");
  }
  sql.exec("INSERT INTO seen VALUES ('wamid.old', ?)", Date.now());
  sql.exec(
    "INSERT INTO pending (provider_message_id, sealed, sent_at, kind, has_attachment, accepted_at) VALUES ('wamid.old', 'v1.old-text', 1, 'text', 0, ?)",
    Date.now(),
  );
  sql.exec("INSERT INTO state VALUES ('conversation_id', 'conv_old'), ('last_activity_at', '123')");
  sql.exec("INSERT INTO outbox VALUES ('human:r1', 'sent', 1, 'wamid.out', ?)", Date.now());
}

describe("conversation store: schema versions", () => {
  it("creates the current schema in a fresh object, marked with its version, holding nothing", async () => {
    await runInDurableObject(freshObject(), async (_o, state) => {
      // The object's constructor has opened its store: the one table every thread writes,
      // `state` (the others come with their first write), the mark a comment in `state`'s definition.
      expect(schema(state)).toEqual(CORE_TABLES.map((name) => ({ type: "table", name })));
      expect(new ConversationStore(state.storage).schemaVersion()).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(8);
      expect(
        state.storage.sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'state'").one()
          .sql,
      ).toBe("CREATE TABLE state (k TEXT PRIMARY KEY, v TEXT NOT NULL /* schema version 8 */) WITHOUT ROWID");
      expect(tableNames(state)).toEqual(CORE_TABLES);
      // The mark is schema, not data: an unused (or purged) object stays provably empty.
      for (const t of CORE_TABLES) expect(state.storage.sql.exec(`SELECT * FROM ${t}`).toArray()).toEqual([]);
      expect([...(await state.storage.list()).keys()]).toEqual([]);
    });
  });

  it("creating the schema of a new object writes 2 rows (every new customer pays them once): the one table every thread writes, the others on first use", async () => {
    await runInDurableObject(freshObject(), async (_o, state) => {
      // The class's own start already made them: start again from nothing.
      await state.storage.deleteAll();
      const metered = meteredStorage(state);
      const store = new ConversationStore(metered.storage);
      // 2 per CREATE as the runtime counts them: state, the mark in its definition.
      expect(metered.take()).toBe(2);
      expect(tableNames(state)).toEqual(CORE_TABLES);
      // An optional table's first write creates it (2), then writes its row; the next only its row.
      store.markOutbox("human:r1", "sending");
      expect(metered.take()).toBe(3);
      store.markOutbox("human:r2", "sending");
      expect(metered.take()).toBe(1);
      // Absent, each reads as empty and takes no write: no draft, no relay, no work owed.
      expect([store.draft("apr_1"), store.draftIds(), store.relays(), store.hasRelays()]).toEqual([
        null,
        [],
        [],
        false,
      ]);
      store.deleteDraft("apr_1");
      store.deleteRelay("rl_1");
      store.relayRetry("rl_1");
      store.relayAttemptFailed("rl_1", 3);
      expect(metered.take()).toBe(0);
      expect(tableNames(state)).toEqual([...CORE_TABLES, "outbox"].sort());
    });
  });

  it("only reads the version on a start at the current version: no DDL, no writes", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const { storage, queries } = recorded(state.storage);
      new ConversationStore(storage);
      // The schema's marks (no view: the comment in state's definition is the mark).
      expect(queries).toHaveLength(1);
      for (const q of queries) expect(q).toMatch(/^SELECT /);
    });
    // A migrated object's mark is its view, which wins over the comment its `state` may still
    // carry (a new object a later migration moved on): one more read, and nothing run.
    await runInDurableObject(freshObject(), (_o, state) => {
      asVersion(state, 6);
      new ConversationStore(state.storage);
      expect(
        state.storage.sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'state'").one()
          .sql,
      ).toMatch(MARK);
      const { storage, queries } = recorded(state.storage);
      new ConversationStore(storage);
      expect(queries).toHaveLength(2);
      expect(queries[0]).toMatch(/^SELECT type, sql FROM sqlite_master/);
      expect(queries[1]).toBe("SELECT version FROM schema_version");
    });
    // The view says an older version than the comment: the view is what counts, and it migrates.
    await runInDurableObject(freshObject(), (_o, state) => {
      asVersion(state, 6);
      const { storage, queries } = recorded(state.storage);
      expect(new ConversationStore(storage).schemaVersion()).toBe(SCHEMA_VERSION);
      expect(queries.some((q) => q.startsWith("INSERT INTO state (k, v) SELECT 'seen:'"))).toBe(true);
    });
  });

  it("upgrades an object from before versions (oldest tables) without losing a row", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      plantUnversioned(state, "oldest");
      const before = schema(state).map((s) => s.name);
      expect(before).not.toContain("history");
      expect(before).not.toContain("schema_version");

      const { storage, queries } = recorded(state.storage);
      const store = new ConversationStore(storage);
      expect(queries.some((q) => q.startsWith("CREATE TABLE IF NOT EXISTS seen"))).toBe(true);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(schema(state).map((s) => s.name)).toEqual([...MIGRATED_TABLES, "schema_version"].sort());

      // Every old row is where it was, and reads through the store.
      expect(store.conversationId()).toBe("conv_old");
      expect(store.lastActivityAt()).toBe(123);
      expect(store.pending(null)).toMatchObject([{ providerMessageId: "wamid.old", sealed: "v1.old-text" }]);
      expect(store.acceptMessage(message("wamid.old"), Date.now())).toBe("duplicate");
      expect(store.outbox("human:r1")).toEqual({ status: "sent", providerMessageId: "wamid.out" });
      // The tables it lacked work at once.
      store.appendHistory(["v1.h"], 10);
      expect(store.history()).toEqual(["v1.h"]);

      // And the next start only reads the mark.
      const again = recorded(state.storage);
      new ConversationStore(again.storage);
      expect(again.queries.every((q) => q.startsWith("SELECT "))).toBe(true);
    });
  });

  it("upgrades an object from before versions (latest tables) without losing a row", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      plantUnversioned(state, "latest");
      const before = rowsByTable(state);
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expectRowsKept(before, rowsByTable(state), store);
      expect(store.history()).toEqual(["v1.old-history"]);
      expect(store.draft("apr_old")).toEqual({ sealed: "v1.old-draft", replyTo: "wamid.old" });
    });
  });

  it("answers the message an unversioned object was holding once it starts on this code", async () => {
    const acc = await newAccount({
      wait_seconds: 30,
      rules: [
        {
          id: "hours",
          matcher: { kind: "static_text", keywords: ["hours"] },
          response: { kind: "canned", text: "Open 7 to 7." },
        },
      ],
      default_rule: { response: { kind: "canned", text: "Thanks!" } },
    });
    const customer = uniqueCustomer();
    expect(await acc.send(customer, "what are your hours?")).toMatchObject({
      results: [{ status: "accepted" }],
    });
    const stub = acc.conversation(customer);
    await runInDurableObject(stub, async (_o, state) => {
      // As deployed before versions: the same tables and rows (the thread's ids in their own state
      // value, as before version 6), no mark.
      state.storage.sql.exec(
        `INSERT INTO state (k, v) SELECT 'thread', json_extract(v, '$.thread') FROM state
          WHERE ${BUFFERED} AND json_extract(v, '$.thread') IS NOT NULL`,
      );
      unmarked(state);
      expect(
        state.storage.sql
          .exec("SELECT 1 FROM sqlite_master WHERE name = 'schema_version' OR sql LIKE '%schema version%'")
          .toArray(),
      ).toEqual([]);
      // A start of this code on that object (a new instance of the class), then its alarm.
      const started = new ConversationDO(state, env);
      expect(new ConversationStore(state.storage).schemaVersion()).toBe(SCHEMA_VERSION);
      await started.alarm();
    });
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Open 7 to 7."]);
    // The turn is over: its text has left storage.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_o, state) => bufferedRows(state))).toEqual([]);
  });

  it("gives a fresh object the very tables the migrations end with", async () => {
    // A fresh object, its optional tables made by their first writes.
    const fresh = await runInDurableObject(freshObject(), (_o, state) => {
      withOptionalTables(state);
      return tableShapes(state);
    });
    const migrated = await runInDurableObject(freshObject(), (_o, state) => {
      plantUnversioned(state, "latest");
      new ConversationStore(state.storage);
      return tableShapes(state);
    });
    expect(migrated).toEqual(fresh);
    expect(Object.keys(fresh).sort()).toEqual(MIGRATED_TABLES);
    // The keyed tables are one b-tree each (one billed row per write).
    for (const t of ["state", "drafts", "outbox"]) expect(fresh[t]).toMatch(/WITHOUT ROWID$/);
    // The relay queue keeps its rowid: it is its order.
    expect(fresh.relay_queue).not.toMatch(/WITHOUT ROWID/);
    // No AUTOINCREMENT anywhere (it writes `sqlite_sequence` on every insert).
    for (const t of Object.values(fresh)) expect(t).not.toMatch(/AUTOINCREMENT/);
  });

  it("upgrades a version 1 object without losing a row, history keeping its numbering", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      plantUnversioned(state, "latest");
      state.storage.sql.exec("CREATE VIEW schema_version AS SELECT 1 AS version");
      state.storage.sql.exec("INSERT INTO history (sealed) VALUES ('v1.h2'), ('v1.h3')");
      state.storage.sql.exec("INSERT INTO relay_queue VALUES ('r1', 'v1.relay', 2, 5)");
      const before = rowsByTable(state);
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expectRowsKept(before, rowsByTable(state), store);
      expect(store.relays()).toEqual([{ id: "r1", sealed: "v1.relay", attempts: 2 }]);
      // The next entry follows the newest; trimming still keeps the newest.
      store.appendHistory(["h4"], 2);
      expect(store.history()).toEqual(["v1.h3", "h4"]);
    });
  });

  it("hands inbox items to Discord in the order they were queued, not their ids' order", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const store = new ConversationStore(state.storage);
      // Ids are hashes: "rl-z…" queued first (the message), "rl-a…" after (the handoff it caused), same ms.
      store.queueRelay("rl-zzzz", "v1.message", 5);
      store.queueRelay("rl-aaaa", "v1.handoff", 5);
      store.queueRelay("rl-mmmm", "v1.later", 6);
      store.queueRelay("rl-zzzz", "v1.again", 7);
      expect(store.relays().map((r) => r.sealed)).toEqual(["v1.message", "v1.handoff", "v1.later"]);
    });
  });

  it("writes one row per state value, history entry and outbox move (what a turn's cost is made of)", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      new ConversationStore(state.storage);
      // The store over a storage that sums the rows each statement wrote, as the bill counts them.
      const metered = meteredStorage(state);
      const store = new ConversationStore(metered.storage);
      metered.take();
      // The outbox table made earlier (a person's reply): its creation is counted elsewhere.
      store.markOutbox("human:earlier", "sent");
      metered.take();
      store.set("wait_ms", "1000");
      store.set("wait_ms", "2000");
      store.markOutbox("approval:1", "sending");
      store.markOutbox("approval:1", "sent", "wamid.out");
      store.appendHistory(["v1.a", "v1.b"], 40);
      expect(metered.take()).toBe(6);
      // Accepting a message: its buffered row, its id inside (no `seen:` row until its turn is
      // over, no AUTOINCREMENT counter, no state row: the customer-service window reads the
      // buffered row's time).
      metered.take();
      const sentAt = Date.now() - 5_000;
      expect(store.acceptMessage({ ...message("wamid.cost"), sentAt }, Date.now())).toBe("accepted");
      expect(metered.take()).toBe(1);
      expect(store.lastInboundAt()).toBe(sentAt);
      // A turn begins: its mark, its conversation, the idle gap's and the window's start, staged
      // (read at once, written by the turn's first write). It finishes (its message goes; the
      // mark stays, and the window's start with it).
      const seq = store.pending(null)[0]!.seq;
      metered.take();
      store.beginTurn(seq, Date.now(), "conv_cost");
      expect(metered.take()).toBe(0);
      expect(store.turnState()).toMatchObject({
        turn_seq: seq,
        conversation_id: "conv_cost",
        last_inbound_at: sentAt,
      });
      // Its reply going out: one row, the turn's own, with the begin in it.
      store.markOutbox(turnOutboxId(seq), "sending");
      expect(metered.take()).toBe(1);
      expect(store.outbox(turnOutboxId(seq))).toEqual({ status: "sending", providerMessageId: null });
      // It finishes: one row (the buffered message becomes its id's `seen:` row, its text gone);
      // no row is written for its outbox
      // entry, which from now on reads as sent (a turn that is over: what it sent is out); the
      // mark stays, and the window's start.
      store.finishTurn(seq);
      expect(metered.take()).toBe(1);
      expect(store.outbox(turnOutboxId(seq))).toEqual({ status: "sent", providerMessageId: null });
      expect(store.lastInboundAt()).toBe(sentAt);
      expect(store.acceptMessage(message("wamid.cost"), Date.now())).toBe("duplicate");
    });
  });

  it("stages a turn's begin until its first write: an object that dies before it begins the turn afresh", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const store = new ConversationStore(state.storage);
      const now = Date.now();
      store.acceptMessage(message("m1"), now);
      const [m1] = store.pending(null);
      store.beginTurn(m1!.seq, now, "conv_staged");
      expect(store.turnUnderWay()).toBe(m1!.seq);
      expect(store.conversationId()).toBe("conv_staged");
      // Another store over the same storage (the object restarted: memory gone) finds no turn:
      // nothing of it was written, so its next run begins it again, with whatever came since.
      const restarted = new ConversationStore(state.storage);
      expect(restarted.turnUnderWay()).toBeNull();
      expect(restarted.conversationId()).toBeNull();
      // Any write writes the begin first: a state value, another message's acceptance, a mark.
      store.set("attempts", "1");
      expect(new ConversationStore(state.storage).turnUnderWay()).toBe(m1!.seq);
      expect(new ConversationStore(state.storage).conversationId()).toBe("conv_staged");
      // So does `commitTurn`, once: a second call writes nothing.
      store.acceptMessage(message("m2"), now);
      const [, m2] = store.pending(null);
      store.finishTurn(m1!.seq);
      const metered = meteredStorage(state);
      const counted = new ConversationStore(metered.storage);
      counted.beginTurn(m2!.seq, now + 1, "conv_staged");
      metered.take();
      expect(new ConversationStore(state.storage).turnUnderWay()).toBeNull();
      counted.commitTurn();
      counted.commitTurn();
      expect(metered.take()).toBe(1);
      expect(new ConversationStore(state.storage).turnUnderWay()).toBe(m2!.seq);
      // A forget (the tables gone and made again) drops what was staged before it.
      store.beginTurn(m2!.seq, now + 2, "conv_other");
      state.storage.sql.exec("DELETE FROM state");
      store.ensureSchema();
      expect(store.conversationId()).toBeNull();
      // The turn's row is never written as a plain state value.
      expect(() => store.set("turn", "{}")).toThrow(/setTurnState/);
    });
  });

  it("never brings an optional table back into a purged object: a write in flight fails", async () => {
    await runInDurableObject(freshObject(), async (_o, state) => {
      const store = new ConversationStore(state.storage);
      await state.storage.deleteAll();
      expect(() => store.markOutbox("human:late", "sent")).toThrow(/purged/);
      expect(() => store.putDraft("apr_late", "v1.x", "wamid.x", 1)).toThrow(/purged/);
      expect(() => store.queueRelay("rl_late", "v1.x", 1)).toThrow(/purged/);
      expect(schema(state)).toEqual([]);
    });
  });

  it("starts over after a purge: the mark goes with the tables", async () => {
    await runInDurableObject(freshObject(), async (_o, state) => {
      await state.storage.deleteAll();
      expect(schema(state)).toEqual([]);
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(schema(state).map((s) => s.name)).toEqual(CORE_TABLES);
    });
  });
});

/**
 * A fresh object's tables as version `n` (3 to 6) had them: every table (the optional ones too,
 * `seen`, `history` and `pending`, its `thread` from version 6 on), marked `n` (a view). Its
 * `state` keeps the comment a new object is created with: the view is the mark wherever there is
 * one.
 */
function asVersion(state: DurableObjectState, n: number) {
  withOptionalTables(state);
  const sql = state.storage.sql;
  sql.exec("CREATE TABLE seen (provider_message_id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID");
  sql.exec("CREATE TABLE history (seq INTEGER PRIMARY KEY, sealed TEXT NOT NULL)");
  sql.exec(`CREATE TABLE pending (seq INTEGER PRIMARY KEY, provider_message_id TEXT NOT NULL, sealed TEXT NOT NULL,
    sent_at INTEGER NOT NULL, kind TEXT NOT NULL, has_attachment INTEGER NOT NULL, accepted_at INTEGER NOT NULL)`);
  if (n >= 6) sql.exec("ALTER TABLE pending ADD COLUMN thread TEXT");
  sql.exec("DROP VIEW IF EXISTS schema_version");
  sql.exec(`CREATE VIEW schema_version AS SELECT ${n} AS version`);
}

/**
 * The object's rows as before versions, with no mark: `state` without its comment, and the ids,
 * the history and the buffered messages (without their thread's ids) in their own tables.
 */
function unmarked(state: DurableObjectState) {
  state.storage.sql.exec(`
    CREATE TABLE pending (seq INTEGER PRIMARY KEY, provider_message_id TEXT NOT NULL, sealed TEXT NOT NULL,
      sent_at INTEGER NOT NULL, kind TEXT NOT NULL, has_attachment INTEGER NOT NULL, accepted_at INTEGER NOT NULL);
    INSERT INTO pending SELECT CAST(substr(k, 9, 15) AS INTEGER), json_extract(v, '$.provider_message_id'),
      json_extract(v, '$.sealed'), json_extract(v, '$.sent_at'), json_extract(v, '$.kind'),
      json_extract(v, '$.has_attachment'), json_extract(v, '$.accepted_at')
      FROM state WHERE k LIKE 'pending:%';
    CREATE TABLE state_old (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
    INSERT INTO state_old SELECT k, v FROM state
     WHERE k NOT LIKE 'seen:%' AND k NOT LIKE 'history:%' AND k NOT LIKE 'pending:%';
    CREATE TABLE seen (provider_message_id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO seen SELECT substr(k, 6), CAST(v AS INTEGER) FROM state WHERE k LIKE 'seen:%';
    CREATE TABLE history (seq INTEGER PRIMARY KEY, sealed TEXT NOT NULL);
    INSERT INTO history SELECT CAST(substr(k, 9) AS INTEGER), v FROM state WHERE k LIKE 'history:%';
    DROP TABLE state;
    ALTER TABLE state_old RENAME TO state;
    DROP VIEW IF EXISTS schema_version;`);
}

/** A thread's ids, as the ingest gives them to its object. */
function aThread(customerId: string): Thread {
  return {
    key: `t/a/${customerId}`,
    tenantId: "t",
    accountId: "a",
    channel: "whatsapp",
    accountExternalId: "1555",
    customerId,
  };
}

/** The one table every new object is created with; the others come with their first write. */
const CORE_TABLES = ["state"];
/** The tables the migrations end with (the optional ones too). */
const MIGRATED_TABLES = ["drafts", "outbox", "relay_queue", "state"];

function tableNames(state: DurableObjectState): string[] {
  return state.storage.sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
    )
    .toArray()
    .map((r) => r.name);
}

/** The optional tables created through the store, as their first writes would (and emptied). */
function withOptionalTables(state: DurableObjectState) {
  const store = new ConversationStore(state.storage);
  store.putDraft("apr_make", "v1.x", "wamid.x", 1);
  store.deleteDraft("apr_make");
  store.queueRelay("rl_make", "v1.x", 1);
  store.deleteRelay("rl_make");
  store.markOutbox("human:make", "sent");
  state.storage.sql.exec("DELETE FROM outbox");
}

/** Each table's definition, normalized (a migration's rename quotes the name). */
function tableShapes(state: DurableObjectState): Record<string, string> {
  const rows = state.storage.sql
    .exec<{ name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (" +
        TABLES.map((t) => `'${t}'`).join(", ") +
        ")",
    )
    .toArray();
  return Object.fromEntries(
    rows.map((r) => [
      r.name,
      r.sql
        .replaceAll('"', "")
        .replace(/\s+/g, " ")
        // A column added by ALTER TABLE is written after " , ".
        .replace(/ ,/g, ",")
        .replace(/\( /g, "(")
        .replace(/ \)/g, ")")
        .replace(/^CREATE TABLE (\w+?)(_2)? /, "CREATE TABLE $1 ")
        // A new object's version mark (a migrated object's is its view).
        .replace(new RegExp(` ${MARK.source}`), "")
        .trim(),
    ]),
  );
}

function message(providerMessageId: string) {
  return { providerMessageId, sealed: "v1.sealed", sentAt: 1_000, kind: "text", hasAttachment: false };
}

describe("conversation store: de-duplication and the reply buffer", () => {
  it("accepts a provider message id once until it is forgotten", async () => {
    await withStore((store, state) => {
      const now = Date.now();
      expect(store.acceptMessage(message("wamid.a"), now)).toBe("accepted");
      expect(store.acceptMessage(message("wamid.a"), now + 1)).toBe("duplicate");
      expect(store.acceptMessage(message("wamid.b"), now + 2)).toBe("accepted");
      expect(store.pending(null).map((p) => p.providerMessageId)).toEqual(["wamid.a", "wamid.b"]);
      expect(store.firstAcceptedAt()).toBe(now);
      // While buffered, the id is its buffered row's: no `seen:` row, and no prune forgets it.
      expect(state.storage.sql.exec(`SELECT k FROM state WHERE NOT (${BUFFERED})`).toArray()).toEqual([]);
      store.prune(now + 10, 0, 0);
      expect(store.acceptMessage(message("wamid.a"), now + 3)).toBe("duplicate");

      // The turn over, each buffered row becomes its id's `seen:` row, valued with its acceptance,
      // one row written each: the text goes, the id stays.
      const [a, b] = store.pending(null);
      store.beginTurn(b!.seq, now + 5, "conv_seen");
      store.commitTurn();
      const metered = meteredStorage(state);
      new ConversationStore(metered.storage).finishTurn(b!.seq);
      expect(metered.take()).toBe(2);
      expect(store.pending(null)).toEqual([]);
      expect(
        state.storage.sql
          .exec("SELECT k, v FROM state WHERE k >= 'seen:' AND k < 'seen;' ORDER BY k")
          .toArray(),
      ).toEqual([
        { k: "seen:wamid.a", v: String(now) },
        { k: "seen:wamid.b", v: String(now + 2) },
      ]);
      expect(a!.seq).toBeLessThan(b!.seq);
      for (const id of ["wamid.a", "wamid.b"])
        expect(store.acceptMessage(message(id), now + 6)).toBe("duplicate");

      // Remembered until pruned (a week, in the object), then a redelivery is new again.
      store.prune(now, 0, 0);
      expect(store.acceptMessage(message("wamid.a"), now + 7)).toBe("duplicate");
      store.prune(now + 1, 0, 0);
      expect(store.acceptMessage(message("wamid.a"), now + 8)).toBe("accepted");
      expect(store.acceptMessage(message("wamid.b"), now + 9)).toBe("duplicate");
    });
  });

  it("keys a buffered message by its seq, then its id: the check reads keys, a message buffered before by its value", async () => {
    await withStore((store, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      expect(store.acceptMessage(message("wamid.x:y%_'"), now)).toBe("accepted");
      const [x] = store.pending(null);
      expect(sql.exec<{ k: string }>(`SELECT k FROM state WHERE ${BUFFERED}`).toArray()).toEqual([
        { k: `pending:${String(x!.seq).padStart(15, "0")}:wamid.x:y%_'` },
      ]);
      expect(store.acceptMessage(message("wamid.x:y%_'"), now)).toBe("duplicate");
      // Not a prefix, nor a pattern: the id exactly.
      expect(store.acceptMessage(message("wamid.x"), now)).toBe("accepted");
      // An id with `;` (the range's bound sorts right after `:`) or beyond ASCII, and a long one.
      const odd = ["a;b", "ü€😀", "z".repeat(500)];
      for (const id of odd) expect(store.acceptMessage(message(id), now)).toBe("accepted");
      for (const id of odd) expect(store.acceptMessage(message(id), now)).toBe("duplicate");
      expect(store.pending(null).map((p) => p.seq)).toEqual([0, 1, 2, 3, 4].map((i) => x!.seq + i));
      expect(store.pending(x!.seq + 2).map((p) => p.providerMessageId)).toEqual([
        "wamid.x:y%_'",
        "wamid.x",
        "a;b",
      ]);
      // A message buffered before version 8 (its key without the id): found by its value, and
      // taken by its seq's range with the others.
      const old = x!.seq + 10;
      sql.exec(
        "INSERT INTO state VALUES (?, ?)",
        `pending:${String(old).padStart(15, "0")}`,
        JSON.stringify({
          provider_message_id: "m-v7",
          sealed: "v1.v7",
          sent_at: 1,
          kind: "text",
          has_attachment: 0,
          accepted_at: now,
          thread: null,
        }),
      );
      expect(store.acceptMessage(message("m-v7"), now)).toBe("duplicate");
      expect(store.acceptMessage(message("m-after"), now)).toBe("accepted");
      const all = store.pending(null);
      expect(all.map((p) => p.providerMessageId)).toEqual([
        "wamid.x:y%_'",
        "wamid.x",
        ...odd,
        "m-v7",
        "m-after",
      ]);
      expect(all.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4].map((i) => x!.seq + i).concat([old, old + 1]));
      expect(store.pending(old).map((p) => p.providerMessageId)).toEqual([
        "wamid.x:y%_'",
        "wamid.x",
        ...odd,
        "m-v7",
      ]);
      expect(store.pending(x!.seq).map((p) => p.providerMessageId)).toEqual(["wamid.x:y%_'"]);
      // Their turn over, every id stays, whichever key it had.
      store.beginTurn(old + 1, now, "conv_keys");
      store.finishTurn(old + 1, now);
      for (const id of ["wamid.x:y%_'", "wamid.x", ...odd, "m-v7", "m-after"]) {
        expect(store.acceptMessage(message(id), now)).toBe("duplicate");
      }
    });
  });

  it("finishes a turn whose message code before this accepted (its id already a seen row): one seen row, no failure", async () => {
    await withStore((store, state) => {
      const now = Date.now();
      expect(store.acceptMessage(message("m-both"), now)).toBe("accepted");
      // What the code before wrote on accepting: the id's row as well as the buffered row.
      state.storage.sql.exec("INSERT INTO state (k, v) VALUES ('seen:m-both', ?)", now - 1);
      const [m] = store.pending(null);
      store.beginTurn(m!.seq, now, "conv_both");
      store.finishTurn(m!.seq);
      expect(store.pending(null)).toEqual([]);
      expect(
        state.storage.sql.exec("SELECT k, v FROM state WHERE k >= 'seen:' AND k < 'seen;'").toArray(),
      ).toEqual([{ k: "seen:m-both", v: String(now) }]);
      expect(store.acceptMessage(message("m-both"), now + 1)).toBe("duplicate");
    });
  });

  it("keeps a turn's messages fixed and clears only that turn when it finishes", async () => {
    await withStore((store) => {
      const now = Date.now();
      for (const id of ["m1", "m2", "m3"]) store.acceptMessage(message(id), now);
      const [first, second] = store.pending(null);
      expect(store.pending(second!.seq).map((p) => p.providerMessageId)).toEqual(["m1", "m2"]);
      store.beginTurn(second!.seq, now, "conv_1");
      store.set("attempts", "2");
      store.set("kept_reply", "v1.kept");
      store.set("relayed:m1", "1");
      store.markOutbox(`turn:${second!.seq}`, "failed");
      store.markOutbox("human:r1", "sent", "wamid.human");

      expect(store.turnUnderWay()).toBe(second!.seq);

      store.finishTurn(second!.seq);
      expect(store.pending(null).map((p) => p.providerMessageId)).toEqual(["m3"]);
      expect(first!.seq).toBeLessThan(second!.seq);
      for (const k of ["attempts", "kept_reply", "relayed:m1"] as const) expect(store.get(k)).toBeNull();
      // The mark stays, but with its messages gone no turn is under way.
      expect(store.turnState().turn_seq).toBe(second!.seq);
      expect(store.turnUnderWay()).toBeNull();
      expect(store.conversationId()).toBe("conv_1");
      expect(store.outbox(`turn:${second!.seq}`)).toEqual({ status: "sent", providerMessageId: null });
      expect(store.outbox("human:r1")).not.toBeNull();
    });
  });

  it("never gives a seq twice, even once the buffer is empty or the thread forgotten: seqs name turns and credit references", async () => {
    await withStore(async (store, state) => {
      const now = Date.now();
      store.acceptMessage(message("m1"), now);
      store.acceptMessage(message("m2"), now);
      const [a, b] = store.pending(null);
      // A new thread counts from the time of its first message.
      expect([a!.seq, b!.seq]).toEqual([now + 1, now + 2]);
      store.beginTurn(b!.seq, now, "conv_1");
      store.finishTurn(b!.seq);
      expect(store.pendingCount()).toBe(0);
      // Without AUTOINCREMENT, the next seq after an empty buffer (no `pending:` key) would start over: the finished
      // turn's credit reference, for a new turn. The mark says where it ended.
      store.acceptMessage(message("m3"), now);
      expect(store.pending(null).map((p) => p.seq)).toEqual([now + 3]);
      // A message buffered while a turn is under way counts on from the buffer.
      store.beginTurn(now + 3, now, "conv_1");
      store.acceptMessage(message("m4"), now);
      expect(store.pending(null).map((p) => p.seq)).toEqual([now + 3, now + 4]);
      expect(store.turnUnderWay()).toBe(now + 3);
      expect(store.pending(store.turnUnderWay()).map((p) => p.providerMessageId)).toEqual(["m3"]);
      // The thread forgotten (idle past the retention: everything goes, the mark too), the
      // customer writes again a little later: the new thread's seqs are past every old one.
      await state.storage.deleteAll();
      store.ensureSchema();
      store.acceptMessage(message("m5"), now + 10);
      expect(store.pending(null).map((p) => p.seq)).toEqual([now + 11]);
    });
  });

  it("upgrades a version 2 object: its buffered messages and a turn under way stay, its seqs never come back", async () => {
    // As version 2 left it: pending with AUTOINCREMENT. (This code migrates it on to the current
    // version, so the version 2 object is built by hand.)
    const plant2 = (state: DurableObjectState, seqs: number[], highest: number, turnSeq: number | null) => {
      const sql = state.storage.sql;
      sql.exec("DROP VIEW IF EXISTS schema_version");
      for (const t of TABLES) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      sql.exec(`CREATE TABLE seen (provider_message_id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE pending (seq INTEGER PRIMARY KEY AUTOINCREMENT, provider_message_id TEXT NOT NULL, sealed TEXT NOT NULL,
          sent_at INTEGER NOT NULL, kind TEXT NOT NULL, has_attachment INTEGER NOT NULL, accepted_at INTEGER NOT NULL);
        CREATE TABLE state (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE history (seq INTEGER PRIMARY KEY, sealed TEXT NOT NULL);
        CREATE TABLE drafts (approval_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, reply_to TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE relay_queue (id TEXT PRIMARY KEY, sealed TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
        CREATE TABLE outbox (turn_id TEXT PRIMARY KEY, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
          provider_message_id TEXT, updated_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE VIEW schema_version AS SELECT 2 AS version;`);
      // The counter as AUTOINCREMENT left it: messages up to `highest` were given seqs.
      sql.exec(
        "INSERT INTO pending (seq, provider_message_id, sealed, sent_at, kind, has_attachment, accepted_at) VALUES (?, 'gone', 'v1.x', 1, 'text', 0, 1)",
        highest,
      );
      sql.exec("DELETE FROM pending");
      for (const seq of seqs) {
        sql.exec(
          "INSERT INTO pending (seq, provider_message_id, sealed, sent_at, kind, has_attachment, accepted_at) VALUES (?, ?, 'v1.x', 1, 'text', 0, 1)",
          seq,
          `m${seq}`,
        );
      }
      if (turnSeq !== null) sql.exec("INSERT INTO state VALUES ('turn_seq', ?)", String(turnSeq));
    };
    // Nothing buffered: the mark is the highest seq given out.
    await runInDurableObject(freshObject(), (_o, state) => {
      plant2(state, [], 41, null);
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(store.turnState().turn_seq).toBe(41);
      expect(store.turnUnderWay()).toBeNull();
      store.acceptMessage(message("new"), Date.now());
      expect(store.pending(null).map((p) => p.seq)).toEqual([42]);
    });
    // Buffered messages, no turn under way: they stay, none of them is taken for a turn under way.
    await runInDurableObject(freshObject(), (_o, state) => {
      plant2(state, [7, 8], 8, null);
      const store = new ConversationStore(state.storage);
      expect(store.pending(null).map((p) => [p.seq, p.providerMessageId])).toEqual([
        [7, "m7"],
        [8, "m8"],
      ]);
      expect(store.turnUnderWay()).toBeNull();
      store.acceptMessage(message("new"), Date.now());
      expect(store.pending(null).map((p) => p.seq)).toEqual([7, 8, 9]);
    });
    // A turn under way keeps its messages and its mark.
    await runInDurableObject(freshObject(), (_o, state) => {
      plant2(state, [7, 8, 9], 9, 8);
      const store = new ConversationStore(state.storage);
      expect(store.turnUnderWay()).toBe(8);
      expect(store.pending(store.turnUnderWay()).map((p) => p.seq)).toEqual([7, 8]);
      store.acceptMessage(message("new"), Date.now());
      expect(store.pending(null).map((p) => p.seq)).toEqual([7, 8, 9, 10]);
    });
  });

  it("upgrades a version 3 object: the turn's values move into one row, and read as before", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      // As version 3 left a thread after a turn: the four keys apart, a message buffered since.
      asVersion(state, 3);
      sql.exec(
        `INSERT INTO state (k, v) VALUES ('turn_seq', '1700000000005'), ('last_activity_at', '1700000000100'),
           ('conversation_id', 'conv_v3'), ('last_inbound_at', '1700000000050'), ('wait_ms', '2000')`,
      );
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(
        sql
          .exec("SELECT k FROM state ORDER BY k")
          .toArray()
          .map((r) => r.k),
      ).toEqual(["turn", "wait_ms"]);
      expect(store.turnState()).toEqual({
        turn_seq: 1700000000005,
        last_activity_at: 1700000000100,
        conversation_id: "conv_v3",
        last_inbound_at: 1700000000050,
      });
      expect([store.conversationId(), store.lastActivityAt(), store.lastInboundAt()]).toEqual([
        "conv_v3",
        1700000000100,
        1700000000050,
      ]);
      // Stored as numbers, as the store writes them.
      expect(
        sql
          .exec(
            "SELECT json_type(v, '$.turn_seq') AS a, json_type(v, '$.last_activity_at') AS b, json_type(v, '$.last_inbound_at') AS c FROM state WHERE k = 'turn'",
          )
          .one(),
      ).toEqual({ a: "integer", b: "integer", c: "integer" });
      expect(store.turnUnderWay()).toBeNull();
      // Seqs go on from the mark; a newer message buffered moves the window's start at once.
      const sentAt = 1700000000200;
      store.acceptMessage({ ...message("new"), sentAt }, Date.now());
      expect(store.pending(null).map((p) => p.seq)).toEqual([1700000000006]);
      expect(store.lastInboundAt()).toBe(sentAt);
    });
    // An object that never had a turn: nothing to fold, no row written.
    await runInDurableObject(freshObject(), (_o, state) => {
      new ConversationStore(state.storage);
      asVersion(state, 3);
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(state.storage.sql.exec("SELECT * FROM state").toArray()).toEqual([]);
      expect(store.turnState()).toEqual({});
    });
  });

  it("upgrades a version 4 object: a turn under way keeps its outbox entry, in the turn's row now", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      asVersion(state, 4);
      const now = Date.now();
      // A turn under way (seqs 7 and 8, a send tried and failed once, then sending), a message
      // buffered since (9), an id answered earlier; a person's reply sent.
      sql.exec(
        "INSERT INTO seen VALUES ('m7', ?), ('m8', ?), ('m9', ?), ('m-old', ?)",
        now - 3,
        now - 2,
        now - 1,
        now - 86_400_000,
      );
      for (const seq of [7, 8, 9]) {
        sql.exec(
          "INSERT INTO pending VALUES (?, ?, ?, ?, 'text', 0, ?)",
          seq,
          `m${seq}`,
          `v1.text-${seq}`,
          now - 10 + seq,
          now - 10 + seq,
        );
      }
      sql.exec(
        `INSERT INTO state VALUES ('turn', '{"turn_seq":8,"last_activity_at":5,"conversation_id":"conv_4"}')`,
      );
      sql.exec("INSERT INTO outbox VALUES ('turn:8', 'sending', 2, NULL, ?)", now);
      sql.exec("INSERT INTO outbox VALUES ('human:r1', 'sent', 1, 'wamid.h', ?)", now);
      // An orphan of an older turn (nothing reads it; it kept the object from being forgotten).
      sql.exec("INSERT INTO outbox VALUES ('turn:3', 'sending', 1, NULL, ?)", now);

      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(store.turnUnderWay()).toBe(8);
      expect(store.pending(8).map((p) => [p.seq, p.providerMessageId, p.sealed])).toEqual([
        [7, "m7", "v1.text-7"],
        [8, "m8", "v1.text-8"],
      ]);
      expect(store.pending(null).map((p) => p.seq)).toEqual([7, 8, 9]);
      expect(store.firstAcceptedAt()).toBe(now - 3);
      // The turn's send is still "maybe sent": its retry never sends again.
      expect(store.outbox("turn:8")).toEqual({ status: "sending", providerMessageId: null });
      expect(store.turnState().outbox).toEqual({ status: "sending", attempts: 2, provider_message_id: null });
      expect(sql.exec("SELECT turn_id FROM outbox").toArray()).toEqual([{ turn_id: "human:r1" }]);
      expect(store.outbox("human:r1")).toEqual({ status: "sent", providerMessageId: "wamid.h" });
      for (const id of ["m7", "m9", "m-old"]) expect(store.acceptMessage(message(id), now)).toBe("duplicate");
      // The retry begins again (its entry stays), finishes; the next turn starts with none.
      store.beginTurn(8, now, "conv_4");
      expect(store.outbox("turn:8")).not.toBeNull();
      store.finishTurn(8);
      expect(store.outbox("turn:8")).toEqual({ status: "sent", providerMessageId: null });
      store.beginTurn(9, now, "conv_4");
      expect(store.turnState().outbox).toBeUndefined();
      expect(store.outbox("turn:9")).toBeNull();
    });
  });

  it("upgrades a version 5 object: the thread's ids move into the turn's row, or the first buffered message's", async () => {
    const thread = aThread("c");
    // A thread after a turn, a message buffered since: the ids go into the turn's row.
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      asVersion(state, 5);
      sql.exec("INSERT INTO state VALUES ('thread', ?)", JSON.stringify(thread));
      sql.exec(
        `INSERT INTO state VALUES ('turn', '{"turn_seq":8,"last_activity_at":5,"conversation_id":"conv_5"}')`,
      );
      sql.exec("INSERT INTO pending VALUES (9, 'm9', 'v1.text-9', 1, 'text', 0, 2)");
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(store.turnState()).toEqual({
        turn_seq: 8,
        last_activity_at: 5,
        conversation_id: "conv_5",
        thread,
      });
      expect(store.thread()).toEqual(thread);
      expect(sql.exec(`SELECT k FROM state WHERE NOT (${BUFFERED}) ORDER BY k`).toArray()).toEqual([
        { k: "turn" },
      ]);
      expect(bufferedRows(state).map((r) => r.thread)).toEqual([null]);
    });
    // A new customer's first messages, no turn yet: the ids go into the first buffered row, and
    // from there into the turn's row when the turn begins.
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      asVersion(state, 5);
      sql.exec("INSERT INTO state VALUES ('thread', ?), ('wait_ms', '5000')", JSON.stringify(thread));
      sql.exec(
        "INSERT INTO pending VALUES (7, 'm7', 'v1.text-7', 1, 'text', 0, 2), (8, 'm8', 'v1.text-8', 1, 'text', 0, 3)",
      );
      const store = new ConversationStore(state.storage);
      expect(sql.exec(`SELECT k FROM state WHERE NOT (${BUFFERED}) ORDER BY k`).toArray()).toEqual([
        { k: "wait_ms" },
      ]);
      expect(bufferedRows(state).map(({ seq, thread }) => ({ seq, thread }))).toEqual([
        { seq: 7, thread: JSON.stringify(thread) },
        { seq: 8, thread: null },
      ]);
      expect(store.thread()).toEqual(thread);
      store.beginTurn(8, Date.now(), "conv_new");
      store.finishTurn(8);
      expect(store.pendingCount()).toBe(0);
      expect(store.turnState().thread).toEqual(thread);
      expect(new ConversationStore(state.storage).thread()).toEqual(thread);
    });
    // A value that is not JSON does not fail the migration (the object would never start again):
    // it stays, and only reading the thread fails, as it did before (the alarm backs off, alerts).
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      asVersion(state, 5);
      sql.exec("INSERT INTO state VALUES ('thread', '{not json'), ('turn', '{\"turn_seq\":8}')");
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(sql.exec("SELECT k, v FROM state ORDER BY k").toArray()).toEqual([
        { k: "thread", v: "{not json" },
        { k: "turn", v: '{"turn_seq":8}' },
      ]);
      expect(() => store.thread()).toThrow(SyntaxError);
    });
  });

  it("upgrades a version 6 object: its ids and its history move into state, and read, trim and forget as before", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      asVersion(state, 6);
      const now = Date.now();
      sql.exec("INSERT INTO seen VALUES ('m-new', ?), ('m-old', ?)", now, now - 8 * 86_400_000);
      sql.exec("INSERT INTO history VALUES (8, 'v1.h8'), (9, 'v1.h9'), (10, 'v1.h10')");
      sql.exec("INSERT INTO state VALUES ('wait_ms', '5000')");
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(tableNames(state)).toEqual(MIGRATED_TABLES);
      // In key order, which is seq order (10 after 9, not before 8 as text would put it).
      expect(store.history()).toEqual(["v1.h8", "v1.h9", "v1.h10"]);
      for (const id of ["m-new", "m-old"]) expect(store.acceptMessage(message(id), now)).toBe("duplicate");
      // The next entry follows the newest, and only the newest `keep` stay; the trim reads the
      // newest key and what it deletes, not every entry.
      const { storage, log } = cursors(state.storage);
      new ConversationStore(storage).appendHistory(["v1.h11"], 3);
      expect(store.history()).toEqual(["v1.h9", "v1.h10", "v1.h11"]);
      const trim = log.find((s) => s.query.startsWith("DELETE FROM state"))!;
      expect(trim.cursor.rowsWritten).toBe(1);
      expect(trim.cursor.rowsRead).toBeLessThanOrEqual(2);
      expect(sql.exec("SELECT k FROM state WHERE k LIKE 'history:%' ORDER BY k").toArray()).toEqual([
        { k: "history:000000000000009" },
        { k: "history:000000000000010" },
        { k: "history:000000000000011" },
      ]);
      // Ids older than the cut are forgotten, and only they: every other row stays, those keyed
      // right beside the ids' range too.
      sql.exec("INSERT INTO state VALUES ('seen', '0'), ('seen;', '0'), ('relayed:m', '0')");
      store.prune(now - 7 * 86_400_000, 0, 0);
      expect(
        sql.exec("SELECT k FROM state WHERE k IN ('seen', 'seen;', 'relayed:m')").toArray(),
      ).toHaveLength(3);
      sql.exec("DELETE FROM state WHERE k IN ('seen', 'seen;', 'relayed:m')");
      expect(store.acceptMessage(message("m-old"), now)).toBe("accepted");
      expect(store.acceptMessage(message("m-new"), now)).toBe("duplicate");
      expect(store.get("wait_ms")).toBe("5000");
      expect(store.history()).toHaveLength(3);
      store.clearHistory();
      expect(store.history()).toEqual([]);
      // (and the message the forgotten id let in, buffered: its id is in its buffered row)
      expect(sql.exec(`SELECT k FROM state WHERE NOT (${BUFFERED}) ORDER BY k`).toArray()).toEqual([
        { k: "seen:m-new" },
        { k: "wait_ms" },
      ]);
      expect(store.pending(null).map((p) => p.providerMessageId)).toEqual(["m-old"]);
    });
  });

  it("upgrades a version 6 object that version 7 had written to before a rollback: no clash, the table's history, no message lost", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      asVersion(state, 6);
      const now = Date.now();
      // Left in `state` by version 7 before the rollback: an id, and a conversation's history since
      // ended. Written by the old code after it: the same id again, and a new history from 1.
      sql.exec(
        "INSERT INTO state VALUES ('seen:m1', ?), ('history:000000000000001', 'v1.stale')",
        String(now),
      );
      sql.exec("INSERT INTO state VALUES ('history:000000000000007', 'v1.stale-too')");
      sql.exec("INSERT INTO seen VALUES ('m1', ?), ('m2', ?)", now, now);
      sql.exec("INSERT INTO history VALUES (1, 'v1.new-1'), (2, 'v1.new-2')");
      // And a message version 7 had buffered (seq 6), which the old code never saw: it took seq 6
      // for a message of its own, buffered now, after a turn (5) it answered.
      const buffered = (id: string, at: number) =>
        JSON.stringify({
          provider_message_id: id,
          sealed: `v1.${id}`,
          sent_at: at,
          kind: "text",
          has_attachment: 0,
          accepted_at: at,
          thread: null,
        });
      sql.exec("INSERT INTO state VALUES ('pending:000000000000006', ?)", buffered("m-left", 1));
      sql.exec(
        `INSERT INTO state VALUES ('turn', '{"turn_seq":5,"outbox":{"status":"sending","attempts":1,"provider_message_id":null}}')`,
      );
      sql.exec("INSERT INTO pending VALUES (6, 'm-old-code', 'v1.m-old-code', 2, 'text', 0, 2, NULL)");
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(store.history()).toEqual(["v1.new-1", "v1.new-2"]);
      for (const id of ["m1", "m2"]) expect(store.acceptMessage(message(id), now)).toBe("duplicate");
      // Both messages stay buffered, the old code's under its seq, the one left after it.
      expect(store.pending(null).map((p) => [p.seq, p.providerMessageId, p.sealed])).toEqual([
        [6, "m-old-code", "v1.m-old-code"],
        [7, "m-left", "v1.m-left"],
      ]);
      // No turn is under way (5 was answered): the next takes both, under a seq never used.
      expect(store.turnUnderWay()).toBeNull();
      store.acceptMessage(message("m-next"), now);
      expect(store.pending(null).map((p) => p.seq)).toEqual([6, 7, 8]);
    });
  });

  it("reads back a buffered message as it was accepted, attachment and all", async () => {
    await withStore((store) => {
      const now = Date.now();
      store.acceptMessage({ ...message("with-file"), kind: "image", hasAttachment: true }, now);
      store.acceptMessage(message("text-only"), now);
      expect(store.pending(null).map(({ seq: _seq, ...m }) => m)).toEqual([
        {
          providerMessageId: "with-file",
          sealed: "v1.sealed",
          sentAt: 1_000,
          kind: "image",
          hasAttachment: true,
          acceptedAt: now,
        },
        {
          providerMessageId: "text-only",
          sealed: "v1.sealed",
          sentAt: 1_000,
          kind: "text",
          hasAttachment: false,
          acceptedAt: now,
        },
      ]);
      expect(store.firstAcceptedAt()).toBe(now);
      expect(store.lastInboundAt()).toBe(1_000);
    });
  });

  it("keeps the thread's ids with the first buffered message only, then in the turn's row: no row of their own", async () => {
    const thread = aThread("d");
    await withStore((store, state) => {
      expect(store.thread()).toBeNull();
      const now = Date.now();
      store.acceptMessage(message("m1"), now, thread);
      store.acceptMessage(message("m2"), now, thread);
      expect(bufferedRows(state).map((r) => r.thread)).toEqual([JSON.stringify(thread), null]);
      // The two messages (their ids in their keys, for de-duplication), and no other row.
      expect(
        state.storage.sql
          .exec<{ k: string }>("SELECT k FROM state")
          .toArray()
          .map((r) => r.k.replace(/^pending:\d{15}:m\d$/, "pending")),
      ).toEqual(["pending", "pending"]);
      expect(store.thread()).toEqual(thread);
      const [first, second] = store.pending(null);
      startTurn(store, first!.seq, now, {
        idleGapMinutes: 360,
        handoffCooldownMinutes: 60,
        historyTurns: 20,
      });
      store.finishTurn(first!.seq);
      // The turn's row has them now; the next message adds none.
      store.acceptMessage(message("m3"), now, thread);
      expect(bufferedRows(state).filter((r) => r.thread !== null)).toEqual([]);
      expect(store.thread()).toEqual(thread);
      expect(store.pending(null).map((p) => p.seq)).toEqual([second!.seq, second!.seq + 1]);
    });
  });

  it("a turn that starts a new conversation ends the wait left from the old one at once, before any await", async () => {
    await withStore((store) => {
      const timing = { idleGapMinutes: 360, handoffCooldownMinutes: 60, historyTurns: 20 };
      const now = Date.now();
      const earlier = now - 8 * 3_600_000;
      store.acceptMessage(message("m1"), earlier);
      const first = store.pending(null)[0]!.seq;
      const old = startTurn(store, first, earlier, timing);
      store.finishTurn(first);
      // That turn ended unanswered: the customer's wait was kept for whoever answers.
      store.set("awaiting_reply_since", String(earlier));
      // Past the idle gap the customer writes again: a new conversation, and the old wait is over.
      store.acceptMessage(message("m2"), now);
      const second = store.pending(null)[0]!.seq;
      const fresh = startTurn(store, second, now, timing);
      expect(fresh.previous).toBe(old.conversationId);
      expect(fresh.conversationId).not.toBe(old.conversationId);
      expect(store.get("awaiting_reply_since")).toBeNull();
      // Its retry (say the first attempt could not open the messages) stays in that conversation.
      expect(startTurn(store, second, now + 1_000, timing)).toEqual({
        conversationId: fresh.conversationId,
        previous: fresh.conversationId,
      });
    });
  });

  it("keeps the newest history entries only", async () => {
    await withStore((store) => {
      store.appendHistory(["a", "b", "c"], 4);
      store.appendHistory(["d", "e"], 4);
      expect(store.history()).toEqual(["b", "c", "d", "e"]);
      store.clearHistory();
      expect(store.history()).toEqual([]);
    });
  });

  it("writes a turn's history entry in its last message's row when it finishes, the id in its key", async () => {
    await withStore((store, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const keys = () =>
        sql
          .exec<{ k: string; v: string }>("SELECT k, v FROM state WHERE k NOT IN ('turn') ORDER BY k")
          .toArray();
      store.appendHistory(["v1.person"], 3, now);
      for (const id of ["m1", "m2"]) store.acceptMessage(message(id), now);
      const [, m2] = store.pending(null);
      store.beginTurn(m2!.seq, now, "conv_h");
      store.markOutbox(turnOutboxId(m2!.seq), "sending");
      // Staged, not written: nothing moves until the finish, and the turn is still under way.
      store.stageHistory(turnOutboxId(m2!.seq), "v1.turn1", 3, now);
      expect(store.history()).toEqual(["v1.person"]);
      expect(store.turnUnderWay()).toBe(m2!.seq);
      const metered = meteredStorage(state);
      const counted = store as unknown as { sql: SqlStorage };
      const real = counted.sql;
      counted.sql = metered.storage.sql;
      store.finishTurn(m2!.seq, now + 1);
      counted.sql = real;
      // m2's row is the entry, m1's its `seen:` row: 2 rows written for 2 messages and an entry.
      expect(metered.take()).toBe(2);
      expect(keys()).toEqual([
        { k: "history:000000000000001", v: "v1.person" },
        { k: "history:000000000000002:m2", v: "v1.turn1" },
        { k: "seen:m1", v: String(now) },
      ]);
      expect(store.history()).toEqual(["v1.person", "v1.turn1"]);
      for (const id of ["m1", "m2"]) expect(store.acceptMessage(message(id), now + 2)).toBe("duplicate");

      // Two more turns: the cap (3) cuts the oldest entries, the person's (no id) deleted, the
      // first turn's become its message's `seen:` row (valued when it was cut), 1 row each.
      for (const [i, id] of ["m3", "m4"].entries()) {
        store.acceptMessage(message(id), now + 3);
        const [m] = store.pending(null);
        store.beginTurn(m!.seq, now + 3, "conv_h");
        store.stageHistory(turnOutboxId(m!.seq), `v1.turn${i + 2}`, 3, now + 3);
        store.finishTurn(m!.seq, now + 10 + i);
      }
      expect(store.history()).toEqual(["v1.turn1", "v1.turn2", "v1.turn3"]);
      store.acceptMessage(message("m5"), now + 4);
      const [m5] = store.pending(null);
      store.beginTurn(m5!.seq, now + 4, "conv_h");
      store.stageHistory(turnOutboxId(m5!.seq), "v1.turn4", 3, now + 4);
      const { storage, log } = cursors(state.storage);
      (store as unknown as { sql: SqlStorage }).sql = storage.sql;
      store.finishTurn(m5!.seq, now + 20);
      (store as unknown as { sql: SqlStorage }).sql = real;
      const cut = log.filter((s) => s.query.includes("k < 'history:"));
      expect(cut.map((s) => s.cursor.rowsWritten)).toEqual([1, 0]);
      // The cut reads what it cuts (the move of a key reads a row or two more), not every entry.
      expect(cut.map((s) => s.cursor.rowsRead)).toEqual([3, 1]);
      expect(store.history()).toEqual(["v1.turn2", "v1.turn3", "v1.turn4"]);
      expect(keys().filter((r) => r.k.startsWith("seen:"))).toEqual([
        { k: "seen:m1", v: String(now) },
        { k: "seen:m2", v: String(now + 20) },
      ]);
      for (const id of ["m1", "m2", "m3", "m4", "m5"]) {
        expect(store.acceptMessage(message(id), now + 5)).toBe("duplicate");
      }
      // A new conversation clears the history; its ids stay, as `seen:` rows.
      store.clearHistory(now + 30);
      expect(store.history()).toEqual([]);
      expect(keys().map((r) => r.k)).toEqual(["seen:m1", "seen:m2", "seen:m3", "seen:m4", "seen:m5"]);
      for (const id of ["m3", "m4", "m5"])
        expect(store.acceptMessage(message(id), now + 6)).toBe("duplicate");
    });
  });

  it("upgrades a version 7 object: nothing moves, and a message it accepted (id row and buffered row) is answered once", async () => {
    await runInDurableObject(freshObject(), (_o, state) => {
      const sql = state.storage.sql;
      new ConversationStore(state.storage);
      // As version 7 created it (its mark the comment), with what it wrote: an id's row beside its
      // buffered message, and a history entry with no id.
      sql.exec("DROP TABLE state");
      sql.exec(
        "CREATE TABLE state (k TEXT PRIMARY KEY, v TEXT NOT NULL /* schema version 7 */) WITHOUT ROWID",
      );
      const now = Date.now();
      sql.exec("INSERT INTO state VALUES ('seen:m7', ?), ('history:000000000000001', 'v1.h1')", now);
      sql.exec(
        `INSERT INTO state VALUES ('pending:000000000000005', json_object('provider_message_id', 'm7',
           'sealed', 'v1.m7', 'sent_at', 1, 'kind', 'text', 'has_attachment', 0, 'accepted_at', ?, 'thread', NULL))`,
        now,
      );
      const before = sql.exec("SELECT k, v FROM state ORDER BY k").toArray();
      const store = new ConversationStore(state.storage);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      // Its mark is a view now (the comment stays, and the view wins), and a start reads it.
      expect(sql.exec("SELECT version FROM schema_version").one().version).toBe(SCHEMA_VERSION);
      expect(new ConversationStore(state.storage).schemaVersion()).toBe(SCHEMA_VERSION);
      expect(sql.exec("SELECT k, v FROM state ORDER BY k").toArray()).toEqual(before);
      expect(store.acceptMessage(message("m7"), now)).toBe("duplicate");
      store.beginTurn(5, now, "conv_7");
      store.stageHistory(turnOutboxId(5), "v1.h2", 20, now);
      store.finishTurn(5, now);
      expect(sql.exec("SELECT k FROM state WHERE k <> 'turn' ORDER BY k").toArray()).toEqual([
        { k: "history:000000000000001" },
        { k: "history:000000000000002:m7" },
        { k: "seen:m7" },
      ]);
      expect(store.history()).toEqual(["v1.h1", "v1.h2"]);
      expect(store.acceptMessage(message("m7"), now)).toBe("duplicate");
    });
  });

  it("cuts a long history by reading what it cuts, not every entry", async () => {
    await withStore((store, state) => {
      const now = Date.now();
      for (let i = 1; i <= 40; i++) {
        store.acceptMessage(message(`m${i}`), now);
        const [m] = store.pending(null);
        store.beginTurn(m!.seq, now, "conv_long");
        store.stageHistory(turnOutboxId(m!.seq), `v1.turn${i}`, 40, now);
        store.finishTurn(m!.seq, now);
      }
      store.acceptMessage(message("m41"), now);
      const [m] = store.pending(null);
      store.beginTurn(m!.seq, now, "conv_long");
      store.stageHistory(turnOutboxId(m!.seq), "v1.turn41", 40, now);
      const { storage, log } = cursors(state.storage);
      const counted = store as unknown as { sql: SqlStorage };
      const real = counted.sql;
      counted.sql = storage.sql;
      store.finishTurn(m!.seq, now);
      counted.sql = real;
      const cut = log.filter((s) => s.query.includes("k < 'history:"));
      expect(cut.map((s) => [s.cursor.rowsWritten, s.cursor.rowsRead])).toEqual([
        [1, 3],
        [0, 1],
      ]);
      expect(store.history()).toHaveLength(40);
      // And a message's de-duplication reads the history's keys, at most its cap of them.
      const accept = cursors(state.storage);
      counted.sql = accept.storage.sql;
      expect(store.acceptMessage(message("m41"), now)).toBe("duplicate");
      expect(store.acceptMessage(message("m-new"), now)).toBe("accepted");
      counted.sql = real;
      const reads = accept.log.filter((s) => s.query.includes("'history:'")).map((s) => s.cursor.rowsRead);
      // (the id's key and the cap's 40 entries: a row or two more than that, whatever was cut)
      expect(reads).toHaveLength(2);
      for (const n of reads) expect(n).toBeLessThanOrEqual(42);
    });
  });

  it("stages only the turn under way's entry, once, never into or out of another turn, and before a person's reply", async () => {
    await withStore((store, state) => {
      const now = Date.now();
      const seenIds = () =>
        state.storage.sql
          .exec<{ k: string }>("SELECT k FROM state WHERE k LIKE 'seen:%' ORDER BY k")
          .toArray()
          .map((r) => r.k);
      // No turn under way: written at once, with no id.
      store.stageHistory(turnOutboxId(1), "v1.alone", 5, now);
      expect(store.history()).toEqual(["v1.alone"]);
      // Staged again for the same turn (a run beside a stuck one, a retry): the same exchange,
      // which replaces the first.
      store.acceptMessage(message("m1"), now);
      const [m1] = store.pending(null);
      store.beginTurn(m1!.seq, now, "conv_s");
      store.stageHistory(turnOutboxId(m1!.seq), "v1.first", 5, now);
      store.stageHistory(turnOutboxId(m1!.seq), "v1.again", 5, now);
      expect(store.history()).toEqual(["v1.alone"]);
      store.finishTurn(m1!.seq, now);
      expect(store.history()).toEqual(["v1.alone", "v1.again"]);

      // A run of a turn stuck beside another that finished it (they share the store), waking after
      // the next turn staged its entry: its late finish leaves that entry alone, and its late entry
      // is written at once, into no other turn.
      store.acceptMessage(message("m2"), now);
      const [m2] = store.pending(null);
      store.beginTurn(m2!.seq, now, "conv_s");
      store.finishTurn(m2!.seq, now);
      store.acceptMessage(message("m3"), now);
      const [m3] = store.pending(null);
      store.beginTurn(m3!.seq, now, "conv_s");
      store.stageHistory(turnOutboxId(m3!.seq), "v1.next", 5, now);
      store.finishTurn(m2!.seq, now);
      store.stageHistory(turnOutboxId(m2!.seq), "v1.late", 5, now);
      expect(store.history()).toEqual(["v1.alone", "v1.again", "v1.late"]);
      store.finishTurn(m3!.seq, now);
      expect(store.history()).toEqual(["v1.alone", "v1.again", "v1.late", "v1.next"]);
      expect(
        state.storage.sql.exec<{ k: string }>("SELECT k FROM state WHERE k LIKE 'history:%:m3'").toArray(),
      ).toHaveLength(1);
      expect(seenIds()).toEqual(["seen:m2"]);

      // A person's reply while a turn's entry is staged: the turn's entry goes first (no id, its
      // message still buffered), then the reply; the finish adds nothing and keeps the id.
      store.acceptMessage(message("m4"), now);
      const [m4] = store.pending(null);
      store.beginTurn(m4!.seq, now, "conv_s");
      store.stageHistory(turnOutboxId(m4!.seq), "v1.turn-m4", 5, now);
      store.appendHistory(["v1.person"], 5, now);
      expect(store.history().slice(-2)).toEqual(["v1.turn-m4", "v1.person"]);
      expect(store.acceptMessage(message("m4"), now)).toBe("duplicate");
      store.finishTurn(m4!.seq, now);
      expect(store.history().slice(-2)).toEqual(["v1.turn-m4", "v1.person"]);
      expect(seenIds()).toEqual(["seen:m2", "seen:m4"]);

      // A run that fails after making its entry (alarm.ts retryLater) writes it at once, with no id
      // (its message is still buffered, de-duplicated there): a restarted object has it.
      store.acceptMessage(message("m5"), now);
      const [m5] = store.pending(null);
      store.beginTurn(m5!.seq, now, "conv_s");
      store.stageHistory(turnOutboxId(m5!.seq), "v1.failed-after", 5, now);
      store.writeStagedHistory(m5!.seq, now);
      const restarted = new ConversationStore(state.storage);
      expect(restarted.history().slice(-1)).toEqual(["v1.failed-after"]);
      expect(restarted.acceptMessage(message("m5"), now)).toBe("duplicate");
      // Its retry finishes with nothing staged: the message becomes its `seen:` row.
      restarted.beginTurn(m5!.seq, now, "conv_s");
      restarted.finishTurn(m5!.seq, now);
      expect(restarted.history()).toEqual([
        "v1.late",
        "v1.next",
        "v1.turn-m4",
        "v1.person",
        "v1.failed-after",
      ]);
      expect(restarted.acceptMessage(message("m5"), now)).toBe("duplicate");
      // One staged for another turn is left alone by `writeStagedHistory`: its own finish writes it.
      restarted.acceptMessage(message("m6"), now);
      const [m6] = restarted.pending(null);
      restarted.beginTurn(m6!.seq, now, "conv_s");
      restarted.stageHistory(turnOutboxId(m6!.seq), "v1.other", 5, now);
      restarted.writeStagedHistory(m6!.seq + 1, now);
      expect(restarted.history().slice(-1)).toEqual(["v1.failed-after"]);
      restarted.finishTurn(m6!.seq, now);
      expect(restarted.history().slice(-1)).toEqual(["v1.other"]);
      expect(restarted.acceptMessage(message("m6"), now)).toBe("duplicate");
    });
  });

  it("reads an id-less key and a key with an id for the next seq, and fails loudly on any other", async () => {
    await withStore((store, state) => {
      state.storage.sql.exec("INSERT INTO state VALUES ('history:000000000000009:wamid.x:y', 'v1.9')");
      store.appendHistory(["v1.10"], 5);
      expect(
        state.storage.sql.exec("SELECT k FROM state WHERE k LIKE 'history:%' ORDER BY k").toArray(),
      ).toEqual([{ k: "history:000000000000009:wamid.x:y" }, { k: "history:000000000000010" }]);
      expect(store.acceptMessage(message("wamid.x:y"), Date.now())).toBe("duplicate");
      state.storage.sql.exec("INSERT INTO state VALUES ('history:00000000000001x', 'v1.bad')");
      expect(() => store.appendHistory(["v1.11"], 5)).toThrow(/holds no seq/);
    });
  });

  it("queues an inbox item once and drops it after its attempts", async () => {
    await withStore((store) => {
      store.queueRelay("rl1", "v1.first", 1);
      store.queueRelay("rl1", "v1.second", 2);
      expect(store.relays()).toEqual([{ id: "rl1", sealed: "v1.first", attempts: 0 }]);
      store.relayRetry("rl1");
      store.relayAttemptFailed("rl1", 3);
      expect(store.relays()).toEqual([{ id: "rl1", sealed: "v1.first", attempts: 2 }]);
      store.relayAttemptFailed("rl1", 3);
      expect(store.hasRelays()).toBe(false);
    });
  });
});

describe("conversation store: the outbox", () => {
  const ok = (id: string): SendResult => ({ ok: true, providerMessageId: id });
  const failure = (extra: Partial<Extract<SendResult, { ok: false }>> = {}): SendResult => ({
    ok: false,
    retryable: true,
    status: 503,
    code: null,
    reason: "unavailable",
    retryAfterSeconds: null,
    ...extra,
  });

  it("moves sending → failed → sending → sent, counting attempts and keeping the provider id", async () => {
    await withStore((store, state) => {
      const attempts = () =>
        state.storage.sql.exec<{ n: number }>("SELECT attempts AS n FROM outbox WHERE turn_id = 't1'").one()
          .n;
      expect(store.outbox("t1")).toBeNull();
      store.markOutbox("t1", "sending");
      expect(store.outbox("t1")).toEqual({ status: "sending", providerMessageId: null });
      store.markOutbox("t1", "failed");
      expect(attempts()).toBe(1);
      store.markOutbox("t1", "sending");
      expect(attempts()).toBe(2);
      store.markOutbox("t1", "sent", "wamid.1");
      store.markOutbox("t1", "sent");
      expect(store.outbox("t1")).toEqual({ status: "sent", providerMessageId: "wamid.1" });
      expect(attempts()).toBe(2);
    });
  });

  it("sends once: a delivered message is never sent again", async () => {
    await withStore(async (store) => {
      let calls = 0;
      const send = async () => {
        calls += 1;
        return ok("wamid.sent");
      };
      expect(earlierAttempt(store, "t1")).toBe("none");
      expect(await deliverOnce(store, "t1", send)).toEqual({ kind: "sent", providerMessageId: "wamid.sent" });
      expect(earlierAttempt(store, "t1")).toBe("sent");
      expect(await deliverOnce(store, "t1", send)).toEqual({
        kind: "already",
        providerMessageId: "wamid.sent",
      });
      expect(calls).toBe(1);
    });
  });

  it("records the attempt before the send: one that died or lost its answer counts as maybe sent", async () => {
    await withStore(async (store) => {
      let calls = 0;
      // The attempt dies while the provider has the request: only `sending` was written.
      await expect(
        deliverOnce(store, "t1", async () => {
          calls += 1;
          expect(store.outbox("t1")?.status).toBe("sending");
          throw new Error("evicted");
        }),
      ).rejects.toThrow("evicted");
      expect(earlierAttempt(store, "t1")).toBe("maybe_sent");
      expect(await deliverOnce(store, "t1", async () => ok("x"))).toEqual({
        kind: "already",
        providerMessageId: null,
      });
      // A timeout after the request went out: the same.
      const unknown = await deliverOnce(store, "t2", async () =>
        failure({ unknown: true, reason: "timeout" }),
      );
      expect(unknown).toEqual({ kind: "unknown", reason: "timeout" });
      expect(earlierAttempt(store, "t2")).toBe("maybe_sent");
      expect(calls).toBe(1);
    });
  });

  it("lets a failed send be tried again, and a held turn stay held", async () => {
    await withStore(async (store) => {
      const failed = await deliverOnce(store, "t1", async () => failure());
      expect(failed).toMatchObject({ kind: "failed", failure: { retryable: true } });
      expect(earlierAttempt(store, "t1")).toBe("none");
      expect(await deliverOnce(store, "t1", async () => ok("wamid.2"))).toEqual({
        kind: "sent",
        providerMessageId: "wamid.2",
      });
      store.markOutbox("t2", "held");
      expect(earlierAttempt(store, "t2")).toBe("held");
    });
  });

  it("keeps a turn's entry in the turn's row, with the same moves: attempts, provider id, maybe sent, held", async () => {
    await withStore(async (store, state) => {
      const now = Date.now();
      /** A message buffered and its turn begun: the turn's outbox id. */
      const turn = (messageId: string) => {
        store.acceptMessage(message(messageId), now);
        const seq = store.pending(null).at(-1)!.seq;
        store.beginTurn(seq, now, "conv_1");
        return { seq, id: turnOutboxId(seq) };
      };
      const first = turn("m1");
      expect(store.outbox(first.id)).toBeNull();
      store.markOutbox(first.id, "sending");
      store.markOutbox(first.id, "failed");
      store.markOutbox(first.id, "sending");
      store.markOutbox(first.id, "sent", "wamid.1");
      store.markOutbox(first.id, "sent");
      expect(store.outbox(first.id)).toEqual({ status: "sent", providerMessageId: "wamid.1" });
      expect(store.turnState().outbox).toEqual({
        status: "sent",
        attempts: 2,
        provider_message_id: "wamid.1",
      });
      expect(await deliverOnce(store, first.id, async () => ok("again"))).toEqual({
        kind: "already",
        providerMessageId: "wamid.1",
      });
      // None of it in the outbox table, which is not even created (a person's reply would).
      expect(tableNames(state)).not.toContain("outbox");
      store.finishTurn(first.seq);
      // A run of that turn still going (stuck past STUCK_TURN_MS while another run finished it)
      // cannot send or hold for it again.
      expect(() => store.markOutbox(first.id, "sending")).toThrow(/not the turn under way/);
      expect(() => store.markOutbox(first.id, "held")).toThrow(/not the turn under way/);

      // An attempt that died while the provider had the request: maybe sent, kept by the retry.
      const second = turn("m2");
      await expect(
        deliverOnce(store, second.id, async () => {
          throw new Error("evicted");
        }),
      ).rejects.toThrow("evicted");
      store.beginTurn(second.seq, now + 1_000, "conv_1");
      expect(earlierAttempt(store, second.id)).toBe("maybe_sent");
      store.finishTurn(second.seq);

      // A held draft's turn stays held across its retries; the next turn starts with nothing.
      const third = turn("m3");
      store.markOutbox(third.id, "held");
      store.beginTurn(third.seq, now + 2_000, "conv_1");
      expect(earlierAttempt(store, third.id)).toBe("held");
      store.finishTurn(third.seq);
      const fourth = turn("m4");
      expect(earlierAttempt(store, fourth.id)).toBe("none");
      // A run of an earlier turn that another run finished (one stuck past STUCK_TURN_MS) finds
      // it sent: it neither sends nor holds, so it neither charges nor gives back a credit.
      expect(earlierAttempt(store, third.id)).toBe("sent");
      expect(earlierAttempt(store, first.id)).toBe("sent");
      expect(await deliverOnce(store, first.id, async () => ok("twice"))).toEqual({
        kind: "already",
        providerMessageId: null,
      });
      // A turn not begun yet has nothing.
      expect(store.outbox(turnOutboxId(fourth.seq + 1))).toBeNull();
    });
  });

  it("forgets sent persons' replies and approved drafts after a week; a send in flight is work still owed", async () => {
    await withStore((store, state) => {
      const age = (id: string, at: number) =>
        state.storage.sql.exec("UPDATE outbox SET updated_at = ? WHERE turn_id = ?", at, id);
      const now = Date.now();
      store.markOutbox("approval:apr_1", "sent", "wamid.a");
      store.markOutbox("human:r1", "sent", "wamid.h");
      // A sent approved draft is no work owed: an idle thread may be forgotten with it there.
      expect(store.holdsWork()).toBe(false);
      store.markOutbox("approval:apr_2", "sending");
      age("approval:apr_1", now - 8 * 86_400_000);
      age("human:r1", now - 8 * 86_400_000);
      age("approval:apr_2", now - 8 * 86_400_000);
      const week = now - 7 * 86_400_000;
      const month = now - 30 * 86_400_000;
      store.prune(0, week, month);
      expect(store.outbox("approval:apr_1")).toBeNull();
      expect(store.outbox("human:r1")).toBeNull();
      // One whose outcome was never recorded stays for the stuck-approval sweep, a month.
      expect(store.outbox("approval:apr_2")).toEqual({ status: "sending", providerMessageId: null });
      expect(store.holdsWork()).toBe(true);
      age("approval:apr_2", now - 31 * 86_400_000);
      store.prune(0, week, month);
      expect(store.outbox("approval:apr_2")).toBeNull();
      expect(store.holdsWork()).toBe(false);
      // A person's reply going out right now is.
      store.markOutbox("human:r2", "sending");
      expect(store.holdsWork()).toBe(true);
      store.markOutbox("human:r2", "sent", "wamid.h2");
      expect(store.holdsWork()).toBe(false);
      // A turn's entry is no work of its own (its buffered messages are, checked first by the
      // caller), and only the latest turn's can be written (a bug otherwise).
      store.acceptMessage(message("m1"), now);
      const seq = store.pending(null)[0]!.seq;
      expect(() => store.markOutbox(turnOutboxId(seq), "sending")).toThrow(/not the turn under way/);
      store.beginTurn(seq, now, "conv_1");
      store.markOutbox(turnOutboxId(seq), "failed");
      expect(store.holdsWork()).toBe(false);
      expect(() => store.markOutbox(turnOutboxId(seq - 1), "sending")).toThrow(/not the turn under way/);
    });
  });
});
