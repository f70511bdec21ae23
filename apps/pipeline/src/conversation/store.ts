/**
 * The conversation object's own SQLite: the only place with its SQL. A typed class over the
 * Durable Object's storage, synchronous like the SQL API itself, so a caller can check and write
 * with nothing in between (no await, no other request interleaving).
 *
 * What rests here is either ids and times, or text sealed with the tenant's key by `sealed.ts`;
 * this module never sees plaintext.
 *
 * ## Schema versions
 *
 * The schema is created or migrated once per version, when the object starts (the constructor),
 * in one transaction with the version mark. On every later start the store only reads the mark.
 *
 * A migrated object's mark is a view, `schema_version`. A new object's is a comment in its `state`
 * table's definition (`/* schema version N *\/`), which SQLite keeps word for word in
 * `sqlite_master`: the view would be 2 more rows written for every new customer. The view, where
 * there is one, is the mark (a later migration adds it to a new object too).
 *
 * The mark is schema rather than `PRAGMA user_version`, a key-value entry or a row.
 * `PRAGMA user_version` is not among the PRAGMAs Cloudflare documents for its SQLite (D1's SQL
 * statements page: table_list, table_info, table_xinfo, index_list, index_info, index_xinfo,
 * quick_check, foreign_key_check, foreign_key_list, case_sensitive_like, ignore_check_constraints,
 * legacy_alter_table, recursive_triggers, reverse_unordered_selects, foreign_keys,
 * defer_foreign_keys, each lasting only its transaction; the Durable Objects SQL API page lists
 * none and points at workerd's source), and workerd refuses it (`not authorized: SQLITE_AUTH`,
 * read or write). A key-value entry or a row would be data: an object that holds nothing (a
 * purged thread, a thread that never got a message) must be provably empty, and is (the tenant
 * deletion test lists every row and key). Schema goes with `deleteAll()` like the tables, and
 * changes in the same transaction as the tables it describes, so the two never disagree.
 *
 * Objects from before the schema had a version have the tables of version 1 (or an older subset
 * of them) and no mark: they count as version 0 and run migration 1, whose statements are all
 * `IF NOT EXISTS`, so their rows stay as they are and any table they lack is added.
 *
 * To change the schema: append a migration (never edit a shipped one) and make `CURRENT` what the
 * migrations end with. A version newer than this code knows (a rolled-back deploy) is left alone.
 * Version 3 cannot be rolled back to code from before it (a gradual deployment included): that
 * code would number new messages from 1 again (reusing turn ids, approval ids and credit
 * references), take the kept `turn_seq` for a turn under way and never arm the buffer's alarm,
 * and read a turn's history entry (an array) as one message. Nor can version 4: code before it
 * finds no `turn_seq`, conversation id, activity or window time (they are in the `turn` row), so
 * it would start a new conversation and count seqs from the time of the next message (past every
 * earlier one, so no reference is reused), and read the customer-service window as closed. Nor can
 * version 5: code before it looks for a turn's outbox entry in `outbox`, where it no longer is (it
 * is in the `turn` row), so a turn under way at the rollback could send its reply a second time.
 * Nor can version 6: code before it reads the thread's ids from a `thread` value, where they no
 * longer are (they are in the `turn` row or the first buffered message's), so it would find no
 * thread: its buffered messages would wait unanswered, and an idle one would be forgotten; and it
 * reads `drafts`, `relay_queue` and `outbox` unguarded, which a new object no longer has. Nor can
 * version 7: code before it finds no `seen`, `history` or `pending` (their rows are in `state`),
 * so it would not answer a message buffered at the rollback, and it reads a new object, which has
 * no view, as one from before versions, whose migrations fail or lose the ids (a message
 * delivered again would be answered again) and the history. Deployed again after such a
 * rollback, migration 7 keeps what the old code wrote since, drops the history it left behind, and
 * answers a message buffered before the rollback after those the old code buffered (see there).
 * Nor can version 8: code before it reads no seq from a buffered key with an id in it (its
 * `buffered` throws, and its range leaves the row out), so a message buffered by version 8 is
 * never answered and each alarm of that thread fails, until the customer's next message; and it
 * cannot read a history key with an id in it, so on a thread
 * whose newest entry has one every append throws, after the send it follows: each turn fails
 * after its reply went out and is retried into `reply_outcome_unknown`, a person's reply or
 * approved draft reports an error for a message that went out, until a new conversation clears
 * the history. And it looks for a message's id in `seen:` rows only, so a message buffered at
 * the rollback, or the last of a turn answered since version 8, would be answered again if the
 * channel delivered it again. Deployed again after such a rollback, version 8 reads what the old
 * code wrote (a `seen:` row beside a buffered message is absorbed by `finishTurn`'s `OR REPLACE`,
 * id-less entries read as ever) and its migration moves nothing.
 *
 * A fresh object (no tables at all: every new conversation) gets `CURRENT` at once instead of
 * every migration in turn: schema statements are rows written (2 per CREATE as the runtime counts
 * them), paid by each thread's first message, so `CURRENT` holds only the table every thread
 * writes, `state`, and its mark costs nothing more; the others are created by their first write
 * (`OptionalTable`). The test holds `CURRENT` with the optional tables to the
 * migrations' tables, columns and keys.
 *
 * ## Rows written
 *
 * Durable Object SQLite bills every row written, each index entry included. So the keyed tables
 * are `WITHOUT ROWID` (a text primary key of a rowid table is a second b-tree: two rows per
 * write), the values a turn sets share one state row (`TurnState`, its outbox entry included), and
 * no table has AUTOINCREMENT (it also writes `sqlite_sequence` on every insert).
 *
 * Since version 7 the de-duplication ids (`seen:<id>`), the history's entries (`history:<seq>`)
 * and the buffered messages (`pending:<seq>`, their fields as JSON) are rows of `state`, each read
 * and written through its key or its key range as they were in tables of their own: a table is 2
 * rows written when an object is created, its rows cost the same in either place. A range's reads
 * (the buffer's by seq, the history's in order) stay within its prefix. (A history entry or a
 * buffered message can be several KB, more than SQLite advises for a `WITHOUT ROWID` row, which
 * an interior page then holds in part: it costs pages read per lookup, not rows billed, in a
 * table of at most 50 entries, the messages buffered, the ids and a few values.)
 * History entries only go (deleted, or turned into their ids' `seen:` rows) oldest first or all
 * at once, so max(seq) + 1 never reuses a live entry's number.
 *
 * A turn's begin is staged (`beginTurn`) and written by the turn's first write, so a canned reply
 * writes it with its outbox mark. The thread's ids ride in rows written anyway: the first buffered
 * message's, then the turn's (version 6).
 *
 * A message is one row from its acceptance on (version 8): buffered (`pending:<seq>:<id>`, its
 * fields inside), then, when its turn is over, the turn's history entry (the turn's last message, the
 * id in the entry's key) or its id's `seen:` row (the others), which the buffered row becomes: an
 * UPDATE of its key and value, one row written, as deleting it was; and an entry trimmed from the
 * history, or cleared with it, becomes its id's `seen:` row the same way. De-duplication reads
 * the id's key, the buffer (the few messages of the turn to come) and the history's keys (at most
 * its cap), keys only: the sealed values stay unread. The id comes after the seq in the
 * buffered key, so the buffer's reads by seq stay ranges of its own rows (keyed by the id alone,
 * they would scan every id the thread remembers, a week of them).
 *
 * A pending seq names its turn (`turnOutboxId`) and, through it, the turn's outbox entry, the
 * approval and the credit reference, which must never come back after the buffer empties: it
 * counts from the latest turn's `turn_seq` too, which stays as that mark. Nor after the object
 * forgot its thread (an idle one past the tenant's retention, `deleteAll`; the credit ledger keeps
 * its references): an object with neither counts from the time of its first message in ms, past
 * any seq a thread of this customer had before (that thread began at least the retention's 7 days
 * earlier and would have needed more messages than milliseconds since).
 */

import type { Thread } from "@concierge/core";

/**
 * Each table as the migrations leave it: what a fresh object is given. Change it only together
 * with a new migration (the store test compares the two).
 */
const TABLE_DEFINITIONS: Record<string, string> = {
  state: "(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID",
  drafts: `(
     approval_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, reply_to TEXT NOT NULL, created_at INTEGER NOT NULL
   ) WITHOUT ROWID`,
  // A rowid table: its items go to Discord in the order they were queued (rowid order), which a
  // WITHOUT ROWID table (id order: a hash) would lose. Written only with a Discord inbox.
  relay_queue: `(
     id TEXT PRIMARY KEY, sealed TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL
   )`,
  outbox: `(
     turn_id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     provider_message_id TEXT,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID`,
};

/**
 * The tables only some threads ever write: a held draft, a Discord inbox's queue, a person's reply
 * or an approved draft. A new object is created without them (each CREATE TABLE is 2 or 3 rows
 * written as the runtime counts them, paid by every new customer); the first write creates its
 * table (`ensureTable`), and a read or delete of one that is absent finds nothing (`ifPresent`).
 * Objects migrated from before version 6 have them all. A migration that touches one must allow
 * for its absence.
 */
type OptionalTable = "drafts" | "relay_queue" | "outbox";
const OPTIONAL_TABLES: readonly OptionalTable[] = ["drafts", "relay_queue", "outbox"];

/**
 * Migration n+1 is `MIGRATIONS[n]`: its statements, or a function running them when they depend
 * on what the object holds.
 */
const MIGRATIONS: readonly (string | ((sql: SqlStorage) => void))[] = [
  // 1: the tables as they were before the schema had a version.
  `CREATE TABLE IF NOT EXISTS seen (provider_message_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
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
   CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, sealed TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS drafts (
     approval_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, reply_to TEXT NOT NULL, created_at INTEGER NOT NULL
   );
   CREATE TABLE IF NOT EXISTS relay_queue (
     id TEXT PRIMARY KEY, sealed TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL
   );
   CREATE TABLE IF NOT EXISTS outbox (
     turn_id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     provider_message_id TEXT,
     updated_at INTEGER NOT NULL
   );`,
  // 2: fewer rows written per turn (see "Rows written"): the keyed tables without rowid (not
  // relay_queue, whose rowid is its order), `history` without AUTOINCREMENT. Rows are copied as
  // they are (a history entry keeps its seq); a NULL key, which the old rowid tables allowed and no
  // writer ever stored, is not copied rather than failing the migration for good.
  `CREATE TABLE seen_2 (provider_message_id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO seen_2 SELECT provider_message_id, at FROM seen WHERE provider_message_id IS NOT NULL;
   DROP TABLE seen;
   ALTER TABLE seen_2 RENAME TO seen;
   CREATE TABLE state_2 (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
   INSERT INTO state_2 SELECT k, v FROM state WHERE k IS NOT NULL;
   DROP TABLE state;
   ALTER TABLE state_2 RENAME TO state;
   CREATE TABLE history_2 (seq INTEGER PRIMARY KEY, sealed TEXT NOT NULL);
   INSERT INTO history_2 SELECT seq, sealed FROM history;
   DROP TABLE history;
   ALTER TABLE history_2 RENAME TO history;
   CREATE TABLE drafts_2 (
     approval_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, reply_to TEXT NOT NULL, created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO drafts_2 SELECT approval_id, sealed, reply_to, created_at FROM drafts WHERE approval_id IS NOT NULL;
   DROP TABLE drafts;
   ALTER TABLE drafts_2 RENAME TO drafts;
   CREATE TABLE outbox_2 (
     turn_id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     provider_message_id TEXT,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO outbox_2 SELECT turn_id, status, attempts, provider_message_id, updated_at FROM outbox WHERE turn_id IS NOT NULL;
   DROP TABLE outbox;
   ALTER TABLE outbox_2 RENAME TO outbox;`,
  // 3: `pending` without AUTOINCREMENT, which wrote `sqlite_sequence` on every message. The seqs
  // still never come back (they name turns, and through them outbox rows, approvals and credit
  // references): a new one counts from the highest buffered seq or the latest turn's `turn_seq`,
  // which now stays after the turn as that mark (`acceptMessage`). An object with no turn under
  // way gets the mark here: just below its oldest buffered message (every seq under it was a
  // finished turn's), or with nothing buffered the highest seq it ever gave out.
  (sql) => {
    // Every object from before has `sqlite_sequence` (its `pending` had AUTOINCREMENT); the check
    // only keeps an odd one (its tables made some other way) from failing for good.
    const counted = sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
      .toArray().length;
    const highest = counted ? "(SELECT seq FROM sqlite_sequence WHERE name = 'pending')" : "NULL";
    sql.exec(`CREATE TABLE pending_3 (
     seq INTEGER PRIMARY KEY,
     provider_message_id TEXT NOT NULL,
     sealed TEXT NOT NULL,
     sent_at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     has_attachment INTEGER NOT NULL,
     accepted_at INTEGER NOT NULL
   );
   INSERT INTO pending_3 (seq, provider_message_id, sealed, sent_at, kind, has_attachment, accepted_at)
     SELECT seq, provider_message_id, sealed, sent_at, kind, has_attachment, accepted_at FROM pending;
   INSERT INTO state (k, v)
     SELECT 'turn_seq', CAST(mark AS TEXT)
       FROM (SELECT COALESCE((SELECT MIN(seq) - 1 FROM pending), ${highest}) AS mark)
      WHERE mark IS NOT NULL AND NOT EXISTS (SELECT 1 FROM state WHERE k = 'turn_seq');
   DROP TABLE pending;
   ALTER TABLE pending_3 RENAME TO pending;`);
  },
  // 4: the turn's mark, the conversation, the idle gap's and the customer-service window's start
  // in one state row, `turn` (see `TurnState`): a turn writes one row instead of three.
  `INSERT INTO state (k, v)
     SELECT 'turn', json_group_object(k, CASE WHEN k = 'conversation_id' THEN v ELSE CAST(v AS INTEGER) END)
       FROM state WHERE k IN ('turn_seq', 'last_activity_at', 'conversation_id', 'last_inbound_at')
     HAVING COUNT(*) > 0;
   DELETE FROM state WHERE k IN ('turn_seq', 'last_activity_at', 'conversation_id', 'last_inbound_at');`,
  // 5: a turn's outbox entry is in the turn's row (`TurnState.outbox`), so finishing a turn
  // deletes no outbox row. The entry of a turn under way moves there; a `turn:` row of any other
  // turn (an orphan: nothing reads it) goes.
  `UPDATE state SET v = json_set(v, '$.outbox',
       json_object('status', o.status, 'attempts', o.attempts, 'provider_message_id', o.provider_message_id))
     FROM outbox o
    WHERE state.k = 'turn' AND o.turn_id = 'turn:' || json_extract(state.v, '$.turn_seq');
   DELETE FROM outbox WHERE turn_id >= 'turn:' AND turn_id < 'turn;';`,
  // 6: the thread's ids in the turn's row (`TurnState.thread`), and before the thread's first
  // turn in its first buffered message's row (`pending.thread`), not in a state row of their
  // own: a new customer's first message writes one row less. The `thread` value moves there.
  // A value that is not JSON (never written so, but a migration must not fail for good on one)
  // stays where it is: the alarm that cannot read it backs off and alerts, as before.
  `ALTER TABLE pending ADD COLUMN thread TEXT;
   UPDATE state SET v = json_set(v, '$.thread', json((SELECT t.v FROM state t WHERE t.k = 'thread')))
    WHERE k = 'turn' AND EXISTS (SELECT 1 FROM state t WHERE t.k = 'thread' AND json_valid(t.v));
   UPDATE pending SET thread = (SELECT v FROM state WHERE k = 'thread')
    WHERE seq = (SELECT MIN(seq) FROM pending) AND NOT EXISTS (SELECT 1 FROM state WHERE k = 'turn');
   DELETE FROM state WHERE k = 'thread'
      AND ((json_valid(v) AND EXISTS (SELECT 1 FROM state WHERE k = 'turn'))
           OR (NOT EXISTS (SELECT 1 FROM state WHERE k = 'turn') AND EXISTS (SELECT 1 FROM pending)));`,
  // 7: the de-duplication ids, the history and the buffered messages in `state`, as
  // `seen:<provider message id>` (its time), `history:<seq, 15 digits>` (an entry) and
  // `pending:<seq, 15 digits>` (the message's fields as JSON) rows: three tables fewer, so 6 rows
  // fewer written for every new object; each row as before, read and written through its key or a
  // key range. 15 digits hold any seq (a history seq counts from 1, a message's from a time in ms,
  // 13 digits) in key order.
  //
  // Such rows can be there already only if code before this version ran on an object of this one
  // (a rollback, then this deploy again). An id is the same id either way. The history is the
  // table's: what `state` holds was left from before the rollback, which the old code could not
  // clear (a conversation since ended, or numbers the table gave again). A message left buffered
  // in `state` was never seen by the old code, which numbered its own messages from its table and
  // its turn: it goes after all of them, in its order, so that it is answered and no seq of theirs
  // comes back.
  (sql) => {
    sql.exec(`INSERT INTO state (k, v) SELECT 'seen:' || provider_message_id, at FROM seen WHERE true
                ON CONFLICT (k) DO NOTHING`);
    sql.exec("DELETE FROM state WHERE k >= 'history:' AND k < 'history;'");
    sql.exec("INSERT INTO state (k, v) SELECT printf('history:%015d', seq), sealed FROM history");
    const left = sql
      .exec<{ v: string }>("SELECT v FROM state WHERE k >= 'pending:' AND k < 'pending;' ORDER BY k")
      .toArray();
    const base = sql
      .exec<{ b: number }>(
        `SELECT MAX(COALESCE((SELECT MAX(seq) FROM pending), 0),
                    COALESCE((SELECT CAST(json_extract(v, '$.turn_seq') AS INTEGER) FROM state WHERE k = 'turn'), 0)) AS b`,
      )
      .one().b;
    sql.exec("DELETE FROM state WHERE k >= 'pending:' AND k < 'pending;'");
    sql.exec(`INSERT INTO state (k, v)
       SELECT printf('pending:%015d', seq),
              json_object('provider_message_id', provider_message_id, 'sealed', sealed, 'sent_at', sent_at,
                          'kind', kind, 'has_attachment', has_attachment, 'accepted_at', accepted_at,
                          'thread', thread)
         FROM pending`);
    left.forEach(({ v }, i) => {
      sql.exec("INSERT INTO state (k, v) VALUES (printf('pending:%015d', ?), ?)", base + 1 + i, v);
    });
    sql.exec("DROP TABLE seen; DROP TABLE history; DROP TABLE pending;");
  },
  // 8: no row moves; what the rows may hold changes. A buffered message's id is in its row alone
  // (`pending:<seq>:<id>`, after the seq) until its turn is over (no `seen:` row beside it), and a turn's history entry takes its last
  // message's row, its key carrying that message's id (`history:<seq>:<id>`, `finishTurn`); an
  // entry from before has no id and reads as ever; nor has a buffered key from before
  // (`pending:<seq>`: its id is read from its value). An object version 7 created (marked by the
  // comment) gets the view as its mark now: 2 rows written once, and a start reads the view.
  () => {},
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The version mark of a new object: a comment in its `state` table's definition, which SQLite
 * keeps, word for word, in `sqlite_master` (see "Schema versions"). `MARK` reads what
 * `markComment` writes.
 */
export const MARK = /\/\* schema version (\d+) \*\//;
const markComment = (version: number) => `/* schema version ${version} */`;

/** `state`'s definition with the mark inside its parentheses; throws if it has nowhere to go. */
function markedState(definition: string): string {
  const marked = definition.replace(/\)( WITHOUT ROWID)?$/, ` ${markComment(SCHEMA_VERSION)})$1`);
  // Unmarked, every new object would read as one from before versions and migrate at each start.
  if (!MARK.test(marked)) throw new Error("the state table's definition has no place for the version mark");
  return marked;
}

/**
 * What a new object is created with: the one table every thread writes from its first message,
 * `state` (the mark in its definition), each statement on its own (a cursor counts only the last
 * statement of a list, so one list would hide what the others write from the bench).
 */
const CURRENT: readonly string[] = Object.entries(TABLE_DEFINITIONS)
  .filter(([t]) => !(OPTIONAL_TABLES as readonly string[]).includes(t))
  .map(([t, definition]) => `CREATE TABLE ${t} ${t === "state" ? markedState(definition) : definition}`);

/**
 * The `state` table: one text value per key. Ids, times and counters in the clear; the values
 * marked sealed are ciphertext from `sealed.ts`. Beside these keys, since version 7, the
 * de-duplication ids (`seenKey`: when each was accepted, or its entry cut), the history's entries
 * (`historyKey`: sealed) and the buffered messages (`pending:<seq>:<id>` since version 8, a
 * `BufferedRow` as JSON), each read and written only through its own methods.
 */
export type StateKey =
  /**
   * The thread's ids (JSON) before version 6, which moved them into the turn's row or the first
   * buffered message's (`ConversationStore.thread`). Read only as the last resort of `thread`:
   * migration 6 leaves it where it found neither a turn nor a buffered message to move it to.
   */
  | "thread"
  /** The reply buffer's wait, from the latest message's reply config; unset is 0 s. */
  | "wait_ms"
  /** `TurnState`, as JSON (schema version 4; with the turn's outbox entry since version 5). */
  | "turn"
  /** Failed attempts of the current turn. */
  | "attempts"
  /** Waits of the current turn for one of the tenant's AI slots (not attempts: nothing was tried). */
  | "slot_waits"
  /** Sealed: a reply kept for the current turn's next attempt. */
  | "kept_reply"
  /** Sealed: how to thread a person's reply under the customer's newest mail. */
  | "email_ctx"
  | "last_auto_reply_at"
  /** When the handoff began; "0" hands the thread to a person (silent). */
  | "handoff_since"
  /** The conversation whose handoff still has to be paged to the tenant. */
  | "page_pending"
  | "page_attempts"
  /** The Discord channel the handoff's inbox item went to. */
  | "handoff_relayed_to"
  /** A draft was held for approval and the tenant has still to be told (metadata only). */
  | "approval_notice_pending"
  | "approval_notice_attempts"
  /** The Discord channel the held draft's inbox item went to. */
  | "approval_relayed_to"
  /** When a flagged message of this thread last went to the Discord inbox (at most one an hour). */
  | "flag_relayed_at"
  /** A person paused the bot for this customer until then (ms); no automatic reply before it. */
  | "paused_until"
  /** Who took the thread over, handed it back or paused it, last (the inbox shows it). */
  | "control_by"
  /** When this thread last wrote its state to the inbox's mirror (control.ts), ms. */
  | "mirror_at"
  /** The conversation whose mail for a person the tenant was told of (email-turn.ts pageForMail). */
  | "mail_paged_for"
  /** That notice still has to reach the tenant, and how often it was tried (handoff.ts). */
  | "mail_notice_pending"
  | "mail_notice_attempts"
  /**
   * Since when the customer waits for a reply, ms (reply-wait.ts); cleared by the reply. Stored
   * only when a turn ends (or waits for a retry) without a reply; a running turn holds it in memory.
   */
  | "awaiting_reply_since"
  /** The closed period (its next opening, hours.ts) the away reply last went out in. */
  | "away_sent_for"
  /** Sealed: mail routed to a person, for the live inbox only (sealed.ts `keepForPerson`). */
  | "person_mail"
  /** Failures in a row of the alarm outside a turn (alarm.ts backs off on them). */
  | "alarm_failures"
  /** When the alarm stopped re-arming after too many failures: the next message arms it. */
  | "alarm_given_up"
  /** A mail of the current turn already relayed to the inbox. */
  | `relayed:${string}`;

/**
 * What a turn sets when it starts, and its outbox entry, kept in one state row (`turn`, JSON)
 * because a turn writes them together: one row written per write of the turn instead of three,
 * four when a conversation starts, and no outbox row to delete when it finishes (Durable Object
 * SQLite bills each row); a canned reply's turn writes it once, its begin staged until its outbox
 * mark (`beginTurn`). The first four fields keep the names of the state keys they replaced, which
 * migration 4 folds by name.
 */
export type TurnState = {
  /**
   * The last pending seq of the latest turn. While that turn's messages are still buffered it is
   * under way (being retried: it keeps exactly these messages, `turnUnderWay`); once it finished
   * the value stays, as the mark new seqs count from (`acceptMessage`).
   */
  turn_seq?: number;
  /** The start of the latest turn, or a person's latest reply or control: the idle gap runs from it. */
  last_activity_at?: number;
  conversation_id?: string;
  /**
   * The customer's latest own send time among the messages a turn took: the customer-service
   * window runs from it, or from a later message still buffered (`lastInboundAt`). Accepting a
   * message writes no state row for it.
   */
  last_inbound_at?: number;
  /**
   * The outbox entry of the latest turn (`turnOutboxId(turn_seq)`), from its first mark on
   * (`sending`, or `held` for a draft): kept across the turn's retries, read as sent once the turn
   * finished (`outbox`), and dropped by the next turn's `beginTurn`. `attempts` counts its
   * `sending` marks, as the outbox table does (for whoever inspects an object; nothing reads it).
   */
  outbox?: { status: OutboxStatus; attempts: number; provider_message_id: string | null };
  /**
   * The thread's ids (version 6), from the first buffered message's row (its `thread` field; the
   * `pending.thread` column before version 7) when the thread's first turn begins: no row of
   * their own.
   */
  thread?: Thread;
};

/** A message accepted and not yet answered; `sealed` holds its text. */
export type PendingMessage = {
  seq: number;
  providerMessageId: string;
  sealed: string;
  sentAt: number;
  kind: string;
  hasAttachment: boolean;
  acceptedAt: number;
};

/**
 * Where one outgoing message stands (a turn's reply, an approved draft, a person's reply):
 * `sending` is written before the provider is called, so it also means "maybe delivered".
 */
export type OutboxStatus = "sending" | "sent" | "failed" | "held";
export type OutboxRow = { status: OutboxStatus; providerMessageId: string | null };

export type QueuedRelay = { id: string; sealed: string; attempts: number };

type Storage = Pick<DurableObjectStorage, "sql" | "transactionSync">;

export class ConversationStore {
  private readonly sql: SqlStorage;

  private readonly storage: Storage;

  /**
   * The row a turn began with and has not written yet (`beginTurn`), or null. Read as the turn's
   * row by everything here; written by the turn's first write of any kind.
   */
  private staged: TurnState | null = null;

  /** The turn under way's history entry, kept until its finish (`stageHistory`), or null. */
  private stagedHistory: { lastSeq: number; sealed: string; keep: number } | null = null;

  /** Opens the store, creating or migrating the schema if its version is behind. */
  constructor(storage: Storage) {
    this.storage = storage;
    this.sql = storage.sql;
    this.ensureSchema();
  }

  /**
   * Creates or migrates the schema if its version is behind; otherwise only reads the version.
   * Run again after the object forgot its thread (`deleteAll` takes the tables too), so that the
   * same instance can take the customer's next message.
   */
  ensureSchema(): void {
    // After a forget: nothing staged before it may come back into the empty object.
    this.staged = null;
    this.stagedHistory = null;
    const version = this.schemaVersion();
    if (version >= SCHEMA_VERSION) return;
    this.storage.transactionSync(() => {
      // A new object: its one core table, the mark in its definition, 2 rows written as the runtime
      // counts them (2 per CREATE; how Cloudflare bills DDL is not documented).
      if (version === 0 && this.isEmpty()) {
        for (const statement of CURRENT) this.sql.exec(statement);
      } else {
        for (const step of MIGRATIONS.slice(version)) {
          if (typeof step === "string") this.sql.exec(step);
          else step(this.sql);
        }
        this.sql.exec(
          `DROP VIEW IF EXISTS schema_version;\nCREATE VIEW schema_version AS SELECT ${SCHEMA_VERSION} AS version;`,
        );
      }
    });
  }

  /** No table of ours at all: an object that never held anything (or was purged by deleteAll). */
  private isEmpty(): boolean {
    return (
      this.sql
        .exec(
          "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name IN ('seen', 'pending', 'state') LIMIT 1",
        )
        .toArray().length === 0
    );
  }

  /**
   * The version mark: the view a migration left, or else the comment a new object's `state` was
   * created with; 0 for an empty object or one from before versions.
   */
  schemaVersion(): number {
    const marks = this.sql
      .exec<{ type: string; sql: string }>(
        "SELECT type, sql FROM sqlite_master WHERE (type = 'view' AND name = 'schema_version') OR (type = 'table' AND name = 'state')",
      )
      .toArray();
    if (marks.some((m) => m.type === "view")) {
      return this.sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version;
    }
    const created = marks[0]?.sql.match(MARK);
    return created ? Number(created[1]) : 0;
  }

  // --- state ---------------------------------------------------------------------------------

  get(key: StateKey): string | null {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = ?", key).toArray()[0];
    return row ? row.v : null;
  }

  /** A numeric value, or null when unset. */
  number(key: StateKey): number | null {
    const v = this.get(key);
    return v === null ? null : Number(v);
  }

  set(key: StateKey, value: string): void {
    if (key === "turn") throw new Error("the turn's row is written by setTurnState only");
    this.write(
      "INSERT INTO state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
      key,
      value,
    );
  }

  /** Unsets the keys, in one statement. */
  clear(...keys: StateKey[]): void {
    if (keys.length === 1) this.write("DELETE FROM state WHERE k = ?", keys[0]!);
    else this.write(`DELETE FROM state WHERE k IN (${keys.map(() => "?").join(", ")})`, ...keys);
  }

  // --- de-duplication and the reply buffer ----------------------------------------------------

  /**
   * Buffers the message, unless its provider id was seen before: in a message still buffered, in
   * a history entry's key (the last message of a turn that is over) or in a `seen:` row (the
   * others, and an entry's once the entry was cut or cleared). The check and the insert happen
   * with nothing in between. The id is kept in the buffered row alone until the turn is over,
   * when that row becomes the turn's history entry or the id's `seen:` row (`finishTurn`): one
   * row written per message instead of two.
   */
  acceptMessage(
    m: Omit<PendingMessage, "seq" | "acceptedAt">,
    now: number,
    /** The thread's ids, kept with this message when the store has none yet (`thread`). */
    thread: Thread | null = null,
  ): "accepted" | "duplicate" {
    // The id's key, then the buffer's keys (the messages of the turn to come, or of one being
    // retried; a message buffered before version 8 has its id in its value only) and the
    // history's (at most its `keep` entries), each within its own key range: keys, not the sealed
    // values, which SQLite then leaves unread on their overflow pages.
    const duplicate = this.sql
      .exec(
        `SELECT 1 FROM state WHERE k = ?1
         UNION ALL
         SELECT 1 FROM state WHERE ${PENDING_RANGE}
            AND CASE WHEN length(k) > ${ID_AT} THEN ${ID_SQL} = ?2
                     ELSE json_extract(v, '$.provider_message_id') = ?2 END
         UNION ALL
         SELECT 1 FROM state WHERE ${HISTORY_RANGE} AND length(k) > ${ID_AT} AND ${ID_SQL} = ?2
         LIMIT 1`,
        seenKey(m.providerMessageId),
        m.providerMessageId,
      )
      .toArray().length;
    if (duplicate) return "duplicate";
    // The next seq after every buffered one and after the latest turn's: never one a turn used;
    // with neither (a new or forgotten thread), from now in ms (see "Rows written"). The key
    // carries the id too (version 8), for the check above.
    this.write(
      `INSERT INTO state (k, v)
       SELECT printf('${PENDING}%015d:', COALESCE(MAX(b.p, b.t), b.p, b.t, ?6) + 1) || ?1,
              json_object('provider_message_id', ?1, 'sealed', ?2, 'sent_at', ?3, 'kind', ?4,
                          'has_attachment', ?5, 'accepted_at', ?6, 'thread', ?7)
         FROM (SELECT (SELECT CAST(substr(MAX(k), ${PENDING.length + 1}, 15) AS INTEGER) FROM state WHERE ${PENDING_RANGE}) AS p,
                      (SELECT CAST(json_extract(v, '$.turn_seq') AS INTEGER) FROM state WHERE k = 'turn') AS t) AS b`,
      m.providerMessageId,
      m.sealed,
      m.sentAt,
      m.kind,
      m.hasAttachment ? 1 : 0,
      now,
      thread && this.thread() === null ? JSON.stringify(thread) : null,
    );
    return "accepted";
  }

  /** When the oldest buffered message was accepted (null: none). */
  firstAcceptedAt(): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(json_extract(v, '$.accepted_at')) AS at FROM state WHERE ${PENDING_RANGE}`,
      )
      .one().at;
  }

  /** Buffered messages up to `lastSeq` (all of them for null), oldest first. */
  pending(lastSeq: number | null): PendingMessage[] {
    return this.sql
      .exec<{ k: string; v: string }>(`SELECT k, v FROM state WHERE ${buffered(lastSeq)} ORDER BY k`)
      .toArray()
      .map(({ k, v }) => {
        const r = JSON.parse(v) as BufferedRow;
        return {
          seq: Number(k.slice(PENDING.length, PENDING.length + 15)),
          providerMessageId: r.provider_message_id,
          sealed: r.sealed,
          sentAt: r.sent_at,
          kind: r.kind,
          hasAttachment: r.has_attachment === 1,
          acceptedAt: r.accepted_at,
        };
      });
  }

  /** The last seq of the turn under way (begun and not finished: its messages are still buffered), or null. */
  turnUnderWay(): number | null {
    const seq = this.turnState().turn_seq ?? null;
    return seq !== null && this.buffersUpTo(seq) ? seq : null;
  }

  /** A message up to `seq` is still buffered. */
  private buffersUpTo(seq: number): boolean {
    return this.sql.exec(`SELECT 1 FROM state WHERE ${buffered(seq)} LIMIT 1`).toArray().length > 0;
  }

  /**
   * A turn takes the buffered messages up to `lastSeq`, at `now`, in `conversationId`: one row
   * with the customer-service window's start moved to the newest of those messages. A retry of
   * the turn rewrites the same row (its activity time moves on).
   *
   * The row is staged, not written: everything here reads it at once, and the turn's first write
   * (of any row, through `write`, or its outbox mark) or `commitTurn` writes it. A canned reply's
   * turn writes nothing else before its outbox mark, which then writes the begin with it: one row
   * instead of two. Until then nothing of the turn is durable, so an object that dies before it
   * begins the turn afresh (the messages are still buffered; nothing was sent or charged): the
   * turn (turn.ts) commits before any other effect, a debit, a D1 row, a relay.
   */
  beginTurn(lastSeq: number, now: number, conversationId: string): void {
    const { outbox, ...state } = this.turnState();
    const taken = this.newestBuffered(lastSeq);
    const thread = state.thread ?? this.thread();
    this.staged = {
      ...state,
      ...(thread ? { thread } : {}),
      // A retry keeps what its earlier attempts sent; a new turn starts with none.
      ...(outbox && state.turn_seq === lastSeq ? { outbox } : {}),
      turn_seq: lastSeq,
      last_activity_at: now,
      conversation_id: conversationId,
      ...(taken !== null && taken > (state.last_inbound_at ?? 0) ? { last_inbound_at: taken } : {}),
    };
  }

  /** Writes the row a turn began with (`beginTurn`), if it is not written yet. */
  commitTurn(): void {
    if (this.staged) this.setTurnState(this.staged);
  }

  /**
   * The turn's row (`TurnState`); empty for a thread that has had no turn yet. Only this store
   * writes it (`setTurnState`, and migration 4, which stores the numbers as numbers).
   */
  turnState(): TurnState {
    if (this.staged) return this.staged;
    const v = this.get("turn");
    return v === null ? {} : (JSON.parse(v) as TurnState);
  }

  /** Replaces the turn's row; one row written. */
  private setTurnState(state: TurnState): void {
    this.staged = null;
    this.sql.exec(
      "INSERT INTO state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
      "turn",
      JSON.stringify(state),
    );
  }

  /** A write of anything but the turn's row: a turn's staged row is written first (`beginTurn`). */
  private write(query: string, ...binds: SqlStorageValue[]): void {
    this.commitTurn();
    this.sql.exec(query, ...binds);
  }

  /**
   * Whether an optional table exists (see `OptionalTable`). Asked of SQLite each time rather than
   * remembered: `deleteAll` (a forget, a purge) takes the tables with it.
   */
  private has(table: OptionalTable): boolean {
    return (
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length >
      0
    );
  }

  /**
   * Creates an optional table before its first write (see `OptionalTable`), but never in an object
   * whose tables are gone (purged: `deleteAll` without `ensureSchema`), where a write in flight
   * must fail like every other write there, not bring back a table and its row.
   */
  private ensureTable(table: OptionalTable): void {
    const present = this.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, 'state')",
        table,
      )
      .toArray()
      .map((r) => r.name);
    if (!present.includes("state")) throw new Error(`no tables to add ${table} to: the object was purged`);
    if (!present.includes(table)) this.write(`CREATE TABLE ${table} ${TABLE_DEFINITIONS[table]}`);
  }

  /**
   * The thread's ids: in the turn's row, or before the thread's first turn in its first buffered
   * message's row (or, in an object a migration found with neither, where they were before
   * version 6). Null: no message yet, or the thread was forgotten.
   */
  thread(): Thread | null {
    const inTurn = this.turnState().thread;
    if (inTurn) return inTurn;
    const buffered = this.sql
      .exec<{ thread: string }>(
        `SELECT json_extract(v, '$.thread') AS thread FROM state
          WHERE ${PENDING_RANGE} AND json_extract(v, '$.thread') IS NOT NULL ORDER BY k LIMIT 1`,
      )
      .toArray()[0];
    const json = buffered?.thread ?? this.get("thread");
    return json ? (JSON.parse(json) as Thread) : null;
  }

  /** The idle gap's start: the latest turn's, or a person's latest reply or control (null: none yet). */
  lastActivityAt(): number | null {
    return this.turnState().last_activity_at ?? null;
  }

  /** A person replied or took control at `now`: the idle gap starts again from it. */
  markActive(now: number): void {
    this.setTurnState({ ...this.turnState(), last_activity_at: now });
  }

  /** The current conversation's id (null: none yet). */
  conversationId(): string | null {
    return this.turnState().conversation_id ?? null;
  }

  /**
   * The customer's latest own send time (never later than its acceptance): of the messages turns
   * took, or of one still buffered. Null when the customer never wrote.
   */
  lastInboundAt(): number | null {
    const buffered = this.newestBuffered(null);
    const taken = this.turnState().last_inbound_at ?? null;
    if (buffered === null) return taken;
    return taken === null ? buffered : Math.max(taken, buffered);
  }

  /**
   * The newest own send time of the buffered messages up to `lastSeq` (all for null), never later
   * than a message's acceptance (a skewed clock); null with none buffered.
   */
  private newestBuffered(lastSeq: number | null): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        `SELECT MAX(MIN(json_extract(v, '$.sent_at'), json_extract(v, '$.accepted_at'))) AS at
           FROM state WHERE ${buffered(lastSeq)}`,
      )
      .one().at;
  }

  pendingCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM state WHERE ${PENDING_RANGE}`).one().n;
  }

  /**
   * The turn is over (answered, or given up): its messages' text leaves storage, and with it
   * everything kept for its retries (attempts, kept reply, relayed marks). Its outbox entry, in
   * the turn's row, reads as sent from now on (`outbox`): no row is written for it.
   *
   * The turn's history entry, staged (`stageHistory`), takes the last buffered message's row; each
   * other buffered message's row becomes its id's `seen:` row (its value: when it was accepted).
   * Either de-duplicates the message from now on (`acceptMessage`), and either is an UPDATE that
   * changes the key, one row written, as deleting it was. `OR REPLACE`: an id that has a `seen:`
   * row already (a message accepted by code before version 8, which wrote both) keeps one.
   */
  finishTurn(lastSeq: number, now: number = Date.now()): void {
    this.writeStagedEntry(lastSeq, now);
    this.write(
      `UPDATE OR REPLACE state
          SET k = '${SEEN}' || json_extract(v, '$.provider_message_id'),
              v = CAST(json_extract(v, '$.accepted_at') AS INTEGER)
        WHERE ${buffered(lastSeq)}`,
    );
    // `turn_seq` stays: with these messages gone it no longer marks a turn under way, only the
    // seqs given out (see the key).
    this.write("DELETE FROM state WHERE k IN ('attempts', 'slot_waits', 'kept_reply')");
    // A key range (the primary key's index), not LIKE, which would read every state row.
    this.write("DELETE FROM state WHERE k >= 'relayed:' AND k < 'relayed;'");
  }

  /**
   * Forgets provider message ids seen before `seenBefore`, and the outbox rows of persons' replies
   * and approved drafts older than `outboxBefore` (a turn's entry is in the turn's row). An approval
   * is sent once by its D1 transition out of `pending`; its row here only answers the sweep of
   * approvals stuck in `sending` (`draftOutcome`, every quarter hour). A row itself still
   * `sending` (an approved draft whose outcome was never recorded) stays until `stuckBefore`, in
   * case that sweep kept failing meanwhile.
   */
  prune(seenBefore: number, outboxBefore: number, stuckBefore: number): void {
    // The ids' key range (version 7): every `seen:` row is read, as the table was (an id still
    // buffered, or in a history entry's key, stays as long as its row).
    this.write(`DELETE FROM state WHERE ${SEEN_RANGE} AND CAST(v AS INTEGER) < ?`, seenBefore);
    if (!this.has("outbox")) return;
    this.write(
      `DELETE FROM outbox WHERE updated_at < ?1
          AND (turn_id LIKE 'human:%' OR (turn_id LIKE 'approval:%' AND (status <> 'sending' OR updated_at < ?2)))`,
      outboxBefore,
      stuckBefore,
    );
  }

  // --- history --------------------------------------------------------------------------------

  /** Sealed history entries, oldest first: `history:<seq>[:<id>]` rows of `state` (versions 7, 8). */
  history(): string[] {
    return this.sql
      .exec<{ v: string }>(`SELECT v FROM state WHERE ${HISTORY_RANGE} ORDER BY k`)
      .toArray()
      .map((r) => r.v);
  }

  /**
   * Appends sealed entries (not a turn's: a person's reply; `stageHistory` keeps a turn's) and
   * keeps only the newest `keep`. A turn's entry staged meanwhile is written first, with no id in
   * its key (its messages are still buffered, and de-duplicated there): what was said stays in
   * the order it was said, a person's reply after the turn it followed.
   */
  appendHistory(sealed: string[], keep: number, now: number = Date.now()): void {
    const staged = this.stagedHistory;
    // (One staged for a turn no longer under way, which another run finished, is dropped.)
    const turnEntry = staged && staged.lastSeq === this.turnUnderWay() ? [staged.sealed] : [];
    const newest = this.insertHistory([...turnEntry, ...sealed]);
    // Once inserted, not before: a failed insert leaves the turn's entry staged for its finish or
    // retry, and a failed trim leaves it written once.
    this.stagedHistory = null;
    this.trimHistory(newest, keep, now);
  }

  /**
   * Keeps the history entry of the turn `turnId` (sealed) until the turn is over, if it is the
   * turn under way: `finishTurn` writes it in place of the turn's last buffered message, one row
   * written where inserting the entry and turning that message into its `seen:` row were two.
   * The entry's key carries that message's id, which de-duplicates it from then on
   * (`acceptMessage`). An entry staged again for the same turn (a run of it beside one stuck past
   * STUCK_TURN_MS, object.ts, or its retry after a failure) is the same exchange, and replaces
   * the first. A turn no longer under way (another run finished it): written at once.
   *
   * Until the finish the entry is in memory only. A run that fails after it (alarm.ts
   * `retryLater`) writes it at once (`writeStagedHistory`), and so does a person's reply
   * (`appendHistory`); only an object that dies between the turn's reply and its finish loses it
   * from the history the AI reads (the retry of a turn whose reply went out does not send again,
   * nor make the entry again). Before version 8 the same held between the send and the entry's
   * append, a shorter stretch. The reply itself and its metadata are out either way. (A turn with
   * no reply, retried after a failure that followed its entry, makes the entry again: the
   * history holds it twice, as it did before version 8.)
   */
  stageHistory(turnId: string, sealed: string, keep: number, now: number = Date.now()): void {
    const lastSeq = this.turnUnderWay();
    if (lastSeq === null || turnOutboxId(lastSeq) !== turnId) {
      this.trimHistory(this.insertHistory([sealed]), keep, now);
      return;
    }
    this.stagedHistory = { lastSeq, sealed, keep };
  }

  /**
   * Writes the staged entry of the turn ending at `lastSeq`, if any, at once as an entry of its
   * own (no id in its key: its messages are still buffered, and de-duplicated there): the turn
   * failed after making it, and is to be retried, perhaps by a later instance of the object,
   * which would not have it. One staged for another turn is left alone.
   */
  writeStagedHistory(lastSeq: number, now: number = Date.now()): void {
    const entry = this.stagedHistory;
    if (entry?.lastSeq !== lastSeq) return;
    const newest = this.insertHistory([entry.sealed]);
    this.stagedHistory = null;
    this.trimHistory(newest, entry.keep, now);
  }

  /** Inserts entries after the newest (no id in their keys); returns the newest seq then. */
  private insertHistory(sealed: string[]): number {
    let seq = this.newestHistorySeq();
    for (const s of sealed) {
      seq += 1;
      this.write("INSERT INTO state (k, v) VALUES (?, ?)", historyKey(seq), s);
    }
    return seq;
  }

  /**
   * Writes the staged entry of the turn ending at `lastSeq` as its last buffered message's row
   * (an UPDATE of its key and value: one row), numbered after the newest entry, with that
   * message's id in its key; then trims. One staged for another turn is left alone: a run that
   * finishes its turn late (another run finished it meanwhile, and the next turn staged its
   * entry) must not drop the next turn's.
   */
  private writeStagedEntry(lastSeq: number, now: number): void {
    const entry = this.stagedHistory;
    if (entry?.lastSeq !== lastSeq) return;
    const seq = this.newestHistorySeq() + 1;
    const last = this.sql
      .exec<{ k: string; id: string }>(
        `SELECT k, json_extract(v, '$.provider_message_id') AS id FROM state
          WHERE ${buffered(lastSeq)} ORDER BY k DESC LIMIT 1`,
      )
      .toArray()[0];
    if (last)
      this.write("UPDATE state SET k = ?, v = ? WHERE k = ?", historyKey(seq, last.id), entry.sealed, last.k);
    // Defensive: a turn finishes with its messages buffered (alarm.ts checks `turnUnderWay`).
    else this.write("INSERT INTO state (k, v) VALUES (?, ?)", historyKey(seq), entry.sealed);
    // After the write: a failed one leaves the entry staged for the turn's retry (`retryLater`).
    this.stagedHistory = null;
    this.trimHistory(seq, entry.keep, now);
  }

  /**
   * The newest entry's seq, 0 with none. One seek: the last key of the range, read once for the
   * writes and the cut (a subquery in each statement read it again, and with the range's own
   * upper bound beside the cut SQLite sought by that bound and read every entry: 7 rows read
   * where this reads 2).
   */
  private newestHistorySeq(): number {
    const newest = this.sql
      .exec<{ k: string | null }>(`SELECT MAX(k) AS k FROM state WHERE ${HISTORY_RANGE}`)
      .one().k;
    if (newest === null) return 0;
    // Every key here was written by `historyKey` or migration 7; anything else would stop every
    // later append (the next key would be taken), so it fails loudly now instead.
    const seq = HISTORY_KEY_PATTERN.exec(newest);
    if (!seq) throw new Error(`history key ${newest} holds no seq`);
    return Number(seq[1]);
  }

  /**
   * Keeps only the newest `keep` entries, `newest` being the newest's seq. An entry's seq is
   * MAX(seq) + 1, and entries only ever go oldest first or all at once, so the newest is never
   * deleted while others stay and the seqs kept are one unbroken run: the newest `keep` are those
   * above `newest` - `keep`, a key range that reads only what it cuts, instead of every entry.
   * An entry that carries a message's id becomes that id's `seen:` row, valued `now` (one row
   * written, as deleting it was), so the message stays de-duplicated (`prune` forgets it a week
   * on); one without goes.
   */
  private trimHistory(newest: number, keep: number, now: number): void {
    if (newest <= keep) return;
    this.forgetHistory(`k >= '${HISTORY}' AND k < '${historyKey(newest - keep + 1)}'`, now);
  }

  /** The conversation is over: its history goes, the ids its entries carry become `seen:` rows. */
  clearHistory(now: number = Date.now()): void {
    this.forgetHistory(HISTORY_RANGE, now);
  }

  /** Forgets the entries in `range` (within the history's), keeping their ids as `seen:` rows. */
  private forgetHistory(range: string, now: number): void {
    this.write(
      `UPDATE OR REPLACE state SET k = '${SEEN}' || ${ID_SQL}, v = CAST(? AS INTEGER)
        WHERE ${range} AND length(k) > ${ID_AT}`,
      now,
    );
    this.write(`DELETE FROM state WHERE ${range}`);
  }

  // --- drafts awaiting approval ---------------------------------------------------------------

  putDraft(approvalId: string, sealed: string, replyTo: string, now: number): void {
    this.ensureTable("drafts");
    this.write(
      "INSERT OR REPLACE INTO drafts (approval_id, sealed, reply_to, created_at) VALUES (?, ?, ?, ?)",
      approvalId,
      sealed,
      replyTo,
      now,
    );
  }

  draft(approvalId: string): { sealed: string; replyTo: string } | null {
    if (!this.has("drafts")) return null;
    const row = this.sql
      .exec<{ sealed: string; reply_to: string }>(
        "SELECT sealed, reply_to FROM drafts WHERE approval_id = ?",
        approvalId,
      )
      .toArray()[0];
    return row ? { sealed: row.sealed, replyTo: row.reply_to } : null;
  }

  /** Every held draft's id, oldest first (the inbox shows them to the person deciding). */
  draftIds(): string[] {
    if (!this.has("drafts")) return [];
    return this.sql
      .exec<{ approval_id: string }>("SELECT approval_id FROM drafts ORDER BY created_at")
      .toArray()
      .map((r) => r.approval_id);
  }

  deleteDraft(approvalId: string): void {
    if (!this.has("drafts")) return;
    this.write("DELETE FROM drafts WHERE approval_id = ?", approvalId);
  }

  // --- the Discord inbox queue ----------------------------------------------------------------

  /** Queues an inbox item once: a second queueing of the same id changes nothing. */
  queueRelay(id: string, sealed: string, now: number): void {
    this.ensureTable("relay_queue");
    this.write(
      "INSERT OR IGNORE INTO relay_queue (id, sealed, created_at) VALUES (?, ?, ?)",
      id,
      sealed,
      now,
    );
  }

  relays(): QueuedRelay[] {
    if (!this.has("relay_queue")) return [];
    // In the order queued: a handoff is never posted before the message that caused it.
    return this.sql
      .exec<QueuedRelay>("SELECT id, sealed, attempts FROM relay_queue ORDER BY rowid")
      .toArray();
  }

  /**
   * Work the object still owes besides buffered messages (which its caller checks first): a draft
   * awaiting a person's decision, or a send in flight (`sending`: a person's reply or an approved
   * draft going out right now). A turn's outbox entry is no work of its own: it matters only
   * while the turn's messages are buffered, and reads as sent after.
   */
  holdsWork(): boolean {
    return (
      (this.has("drafts") && this.sql.exec("SELECT 1 FROM drafts LIMIT 1").toArray().length > 0) ||
      (this.has("outbox") &&
        this.sql.exec("SELECT 1 FROM outbox WHERE status = 'sending' LIMIT 1").toArray().length > 0)
    );
  }

  hasRelays(): boolean {
    return this.has("relay_queue") && this.sql.exec("SELECT 1 FROM relay_queue LIMIT 1").toArray().length > 0;
  }

  deleteRelay(id: string): void {
    if (!this.has("relay_queue")) return;
    this.write("DELETE FROM relay_queue WHERE id = ?", id);
  }

  /** Counts a failed attempt; the item goes once it has had `maxAttempts`. */
  relayAttemptFailed(id: string, maxAttempts: number): void {
    if (!this.has("relay_queue")) return;
    this.write("UPDATE relay_queue SET attempts = attempts + 1 WHERE id = ?", id);
    this.write("DELETE FROM relay_queue WHERE id = ? AND attempts >= ?", id, maxAttempts);
  }

  /** Counts a failed attempt and keeps the item for the next. */
  relayRetry(id: string): void {
    if (!this.has("relay_queue")) return;
    this.write("UPDATE relay_queue SET attempts = attempts + 1 WHERE id = ?", id);
  }

  // --- the outbox -----------------------------------------------------------------------------

  outbox(id: string): OutboxRow | null {
    if (isTurnId(id)) {
      const { turn_seq: latest, outbox: entry } = this.turnState();
      const seq = Number(id.slice("turn:".length));
      if (latest === undefined || !Number.isSafeInteger(seq) || id !== turnOutboxId(seq) || seq > latest) {
        return null;
      }
      // The latest turn's entry, while its messages are still buffered (it is under way).
      if (seq === latest && this.buffersUpTo(seq)) {
        return entry ? { status: entry.status, providerMessageId: entry.provider_message_id } : null;
      }
      // A turn that is over: what it sent is out. Only a run of it that another run finished
      // meanwhile (one stuck past STUCK_TURN_MS, object.ts) asks, and must not send, hold or
      // charge for it again (nor give back the credit the run that finished it used).
      return { status: "sent", providerMessageId: null };
    }
    if (!this.has("outbox")) return null;
    const row = this.sql
      .exec<{ status: OutboxStatus; id: string | null }>(
        "SELECT status, provider_message_id AS id FROM outbox WHERE turn_id = ?",
        id,
      )
      .toArray()[0];
    return row ? { status: row.status, providerMessageId: row.id } : null;
  }

  /**
   * Moves an outbox entry to `status` (creating it), counting each `sending` as an attempt; a
   * provider message id once known stays. A turn's entry is in the turn's row, and only the
   * latest turn's can be written: another turn's id is a bug, and throws.
   */
  markOutbox(id: string, status: OutboxStatus, providerMessageId?: string): void {
    if (isTurnId(id)) {
      // One row: the turn's own, with its begin if that is still staged (`beginTurn`).
      const state = this.turnState();
      // Nor for a run of a turn another run finished meanwhile (one stuck past STUCK_TURN_MS,
      // object.ts): it must not send or hold for that turn again.
      const seq = state.turn_seq;
      if (seq === undefined || id !== turnOutboxId(seq) || !this.buffersUpTo(seq)) {
        throw new Error(`${id} is not the turn under way`);
      }
      const earlier = state.outbox;
      this.setTurnState({
        ...state,
        outbox: {
          status,
          attempts: earlier ? earlier.attempts + (status === "sending" ? 1 : 0) : 1,
          provider_message_id: providerMessageId ?? earlier?.provider_message_id ?? null,
        },
      });
      return;
    }
    this.ensureTable("outbox");
    this.write(
      `INSERT INTO outbox (turn_id, status, attempts, provider_message_id, updated_at) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (turn_id) DO UPDATE SET status = excluded.status, attempts = attempts + (excluded.status = 'sending'),
         provider_message_id = COALESCE(excluded.provider_message_id, provider_message_id), updated_at = excluded.updated_at`,
      id,
      status,
      providerMessageId ?? null,
      Date.now(),
    );
  }
}

/**
 * A turn's id, and so its outbox id: `turn:<its last seq>`. Its outbox entry is kept in the turn's
 * row rather than in `outbox`.
 */
export function turnOutboxId(lastSeq: number): string {
  return `turn:${lastSeq}`;
}

/** A de-duplication id's key in `state` (version 7): its value is when it was seen, ms. */
function seenKey(providerMessageId: string): string {
  return `${SEEN}${providerMessageId}`;
}

/** The prefix of a de-duplication id's key in `state` (version 7). */
const SEEN = "seen:";

/** The prefix of a buffered message's key in `state` (version 7; its id after the seq since 8). */
const PENDING = "pending:";

/** Every buffered message's key, a range of `state`'s primary key. */
const PENDING_RANGE = "k >= 'pending:' AND k < 'pending;'";

/**
 * The buffered messages up to `lastSeq` (all of them for null), as a key range of `state`: a
 * buffered message's key is `pending:` and its seq in 15 digits, so that key order is seq order
 * (a seq counts from a time in ms, 13 digits, one per message), then (version 8) `:` and its id.
 * The bound is written into the SQL, a safe integer's digits only, so that SQLite seeks to it;
 * `;` sorts just after `:`, so it takes the seq's keys with an id and without, and no other seq's.
 */
function buffered(lastSeq: number | null): string {
  if (lastSeq === null) return PENDING_RANGE;
  // 15 digits: past them a key would sort below the others (seqs count from a time in ms).
  if (!Number.isSafeInteger(lastSeq) || lastSeq < 0 || lastSeq > 999_999_999_999_999) {
    throw new Error(`not a seq: ${lastSeq}`);
  }
  return `k >= '${PENDING}' AND k < '${PENDING}${String(lastSeq).padStart(15, "0")};'`;
}

/** A buffered message's row in `state` (`acceptMessage`): what `pending` held as columns before. */
export type BufferedRow = {
  provider_message_id: string;
  sealed: string;
  sent_at: number;
  kind: string;
  has_attachment: number;
  accepted_at: number;
  thread: string | null;
};

/** Every de-duplication id's key (`seenKey`), a range of `state`'s primary key. */
const SEEN_RANGE = "k >= 'seen:' AND k < 'seen;'";

/** The prefix of a history entry's key in `state` (version 7). */
const HISTORY = "history:";

/**
 * A history entry's key: `history:` and its seq in 15 digits, so that key order is seq order
 * (migration 7 writes the same with `printf('history:%015d', seq)`), then, for a turn's entry
 * since version 8, `:` and the id of the turn's last message (`finishTurn`), which it
 * de-duplicates.
 */
function historyKey(seq: number, providerMessageId?: string): string {
  const key = `${HISTORY}${String(seq).padStart(15, "0")}`;
  return providerMessageId === undefined ? key : `${key}:${providerMessageId}`;
}

/** A history key: its seq (15 digits), then nothing or `:` and an id. */
const HISTORY_KEY_PATTERN = /^history:(\d{15})(?::|$)/;

/**
 * A history or buffered key's length up to its id (`history:` or `pending:`, 15 digits and `:`):
 * longer keys carry one.
 */
const ID_AT = HISTORY.length + 15 + 1;
// Both prefixes are 8 characters: one offset serves both (checked when the module loads).
if (PENDING.length !== HISTORY.length)
  throw new Error("the buffered and history key prefixes differ in length");

/** The id in a history or buffered key, in SQL (empty for a key without one). */
const ID_SQL = `substr(k, ${ID_AT + 1})`;

/** Every history entry's key (`historyKey`), a range of `state`'s primary key. */
const HISTORY_RANGE = "k >= 'history:' AND k < 'history;'";

function isTurnId(id: string): boolean {
  return id.startsWith("turn:");
}
