// The durable floor: the least a correct WhatsApp ingest must do, as a Worker in the bench's
// runtime. It verifies Meta's signature (HMAC-SHA256 over the raw bytes with the app secret),
// parses the delivery, hands each message to one Durable Object per customer
// (idFromName(number + customer), the design's unit of de-duplication and ordering), which writes
// one row to its SQLite storage, and answers 200 only after every row is written. No account
// lookup, no sealing, no turn: what is left of (b)'s cost beyond this is the product's own work.
// `POST /check` counts which acknowledged messages have their row, so the bench can check that
// none was lost.

export const DURABLE_FLOOR_WORKER = `
import { DurableObject } from "cloudflare:workers";

export class FloorDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS m (id TEXT PRIMARY KEY)");
  }
  accept(id) {
    // One row per message; a redelivery changes nothing.
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO m (id) VALUES (?)", id);
    return true;
  }
  present(ids) {
    let n = 0;
    for (const id of ids) n += this.ctx.storage.sql.exec("SELECT 1 FROM m WHERE id = ?", id).toArray().length;
    return n;
  }
}

let key;

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/check") {
      // { "<phone number id>:<customer>": [message ids] } -> how many of them have their row.
      const byCustomer = Object.entries(await request.json());
      let present = 0;
      for (let i = 0; i < byCustomer.length; i += 100) {
        const counts = await Promise.all(
          byCustomer.slice(i, i + 100).map(([c, ids]) => env.FLOOR.get(env.FLOOR.idFromName(c)).present(ids)),
        );
        for (const n of counts) present += n;
      }
      return Response.json({ present });
    }
    const raw = await request.arrayBuffer();
    const header = request.headers.get("x-hub-signature-256") ?? "";
    if (!/^sha256=[0-9a-f]{64}$/.test(header)) return new Response("bad signature", { status: 401 });
    // Imported once per isolate, as the pipeline does.
    key ??= await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(env.META_APP_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    if (!(await crypto.subtle.verify("HMAC", key, hexToBytes(header.slice(7)), raw))) {
      return new Response("bad signature", { status: 401 });
    }
    let body;
    try {
      body = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      return new Response("bad json", { status: 400 });
    }
    const accepted = [];
    for (const entry of body.entry ?? []) {
      for (const change of entry.changes ?? []) {
        const value = change.value ?? {};
        const number = value.metadata?.phone_number_id;
        for (const m of value.messages ?? []) {
          if (typeof m.id !== "string" || typeof m.from !== "string" || typeof number !== "string") continue;
          const customer = number + ":" + m.from;
          accepted.push(env.FLOOR.get(env.FLOOR.idFromName(customer)).accept(m.id));
        }
      }
    }
    await Promise.all(accepted);
    return new Response("ok");
  },
};
`;

/** Miniflare options of the floor Worker: its SQLite-backed Durable Object and the app secret. */
export function durableFloorOptions(appSecret: string): Record<string, unknown> {
  return {
    durableObjects: { FLOOR: { className: "FloorDO", useSQLite: true } },
    bindings: { META_APP_SECRET: appSecret },
  };
}
