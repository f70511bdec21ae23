/**
 * The sandbox's Cloudflare API v4, the Email Routing part the pipeline provisions subdomains with:
 * enable Email Routing DNS on a subdomain, create/list/delete routing rules. Same envelope as the
 * real API (`{ success, errors: [{ code, message }], messages, result }`), bearer token checked,
 * every call recorded, and faults injectable per operation for tests.
 */
export type CloudflareOp = "dns" | "rule_create" | "rule_delete";

export type CloudflareFault = {
  op: CloudflareOp;
  status: number;
  code: number;
  message: string;
  /** How many calls fail (default 1). */
  times?: number;
};

export type CloudflareCall = { op: CloudflareOp | "rule_list"; zoneId: string; body: unknown; at: number };

type Rule = {
  id: string;
  name: string;
  enabled: boolean;
  priority: number;
  matchers: { type: string; field?: string; value?: string }[];
  actions: { type: string; value?: string[] }[];
};

type Reply = { status: number; body: unknown };

const ROUTE = /^\/cloudflare\/client\/v4\/zones\/([^/]+)\/email\/routing\/(dns|rules)(?:\/([^/]+))?$/;

function ok(result: unknown): Reply {
  return { status: 200, body: { success: true, errors: [], messages: [], result } };
}

function fail(status: number, code: number, message: string): Reply {
  return { status, body: { success: false, errors: [{ code, message }], messages: [], result: null } };
}

export class FakeCloudflare {
  readonly calls: CloudflareCall[] = [];
  /** Subdomains with Email Routing enabled, per zone ("zone/name"). */
  readonly dns = new Set<string>();
  readonly rules = new Map<string, Rule & { zoneId: string }>();
  private faults: CloudflareFault[] = [];
  private seq = 0;

  private readonly token: string | null;

  constructor(token: string | null) {
    this.token = token;
  }

  /** Whether the path is ours; the server then calls `handle`. */
  static matches(path: string): boolean {
    return ROUTE.test(path);
  }

  addFault(f: CloudflareFault): void {
    this.faults.push({ ...f, times: f.times ?? 1 });
  }

  reset(): void {
    this.calls.length = 0;
    this.dns.clear();
    this.rules.clear();
    this.faults = [];
  }

  private takeFault(op: CloudflareOp): Reply | null {
    const f = this.faults.find((x) => x.op === op && (x.times ?? 0) > 0);
    if (!f) return null;
    f.times = (f.times ?? 1) - 1;
    return fail(f.status, f.code, f.message);
  }

  handle(method: string, path: string, authorization: string | undefined, raw: string): Reply {
    const m = ROUTE.exec(path);
    if (!m) return fail(404, 7003, "Could not route to this path.");
    const zoneId = decodeURIComponent(m[1]!);
    const kind = m[2]!;
    const id = m[3] ? decodeURIComponent(m[3]) : null;
    if (this.token !== null && authorization !== `Bearer ${this.token}`) {
      // Cloudflare answers a missing or wrong token with code 10000, "Authentication error".
      return fail(403, 10000, "Authentication error");
    }
    let body: unknown = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return fail(400, 6007, "Malformed JSON in request body");
      }
    }
    if (kind === "dns" && method === "POST" && !id) return this.enableDns(zoneId, body);
    if (kind === "rules" && method === "POST" && !id) return this.createRule(zoneId, body);
    if (kind === "rules" && method === "GET" && !id) {
      this.calls.push({ op: "rule_list", zoneId, body: null, at: Date.now() });
      return ok([...this.rules.values()].filter((r) => r.zoneId === zoneId).map(({ zoneId: _z, ...r }) => r));
    }
    if (kind === "rules" && method === "DELETE" && id) return this.deleteRule(zoneId, id);
    return fail(405, 10405, "Method not allowed for this path.");
  }

  private enableDns(zoneId: string, body: unknown): Reply {
    this.calls.push({ op: "dns", zoneId, body, at: Date.now() });
    const fault = this.takeFault("dns");
    if (fault) return fault;
    const name = (body as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || !name) return fail(400, 1001, "name is required");
    this.dns.add(`${zoneId}/${name.toLowerCase()}`);
    return ok({
      id: `settings${zoneId.slice(0, 8)}`,
      enabled: true,
      name,
      status: "ready",
      skip_wizard: true,
    });
  }

  private createRule(zoneId: string, body: unknown): Reply {
    this.calls.push({ op: "rule_create", zoneId, body, at: Date.now() });
    const fault = this.takeFault("rule_create");
    if (fault) return fault;
    const b = (body ?? {}) as Partial<Rule>;
    if (
      !Array.isArray(b.matchers) ||
      b.matchers.length === 0 ||
      !Array.isArray(b.actions) ||
      b.actions.length === 0
    ) {
      return fail(400, 2001, "matchers and actions are required");
    }
    const to = b.matchers.find((x) => x.type === "literal" && x.field === "to")?.value ?? "";
    const domain = to.split("@")[1]?.toLowerCase() ?? "";
    if (!this.dns.has(`${zoneId}/${domain}`)) {
      return fail(400, 2062, `Email Routing is not enabled for ${domain || "this address"}.`);
    }
    this.seq += 1;
    const id = `${this.seq.toString(16).padStart(8, "0")}${"a".repeat(24)}`;
    const rule = {
      id,
      name: String(b.name ?? ""),
      enabled: b.enabled !== false,
      priority: typeof b.priority === "number" ? b.priority : 0,
      matchers: b.matchers,
      actions: b.actions,
    };
    this.rules.set(id, { ...rule, zoneId });
    return ok({ ...rule, tag: id });
  }

  private deleteRule(zoneId: string, id: string): Reply {
    this.calls.push({ op: "rule_delete", zoneId, body: { id }, at: Date.now() });
    const fault = this.takeFault("rule_delete");
    if (fault) return fault;
    const rule = this.rules.get(id);
    if (!rule || rule.zoneId !== zoneId) return fail(404, 2020, "Rule not found");
    this.rules.delete(id);
    const { zoneId: _z, ...result } = rule;
    return ok(result);
  }
}
