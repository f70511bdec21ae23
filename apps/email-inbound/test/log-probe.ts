// Node side: every line the Workers write (Miniflare prints them from this process) is kept, so a
// test can prove that no log line carries message text.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

export default async function ({ provide }: TestProject) {
  const lines: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap =
    (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      if (lines.length > 100_000) lines.splice(0, 50_000);
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    };
  process.stdout.write = tap(process.stdout, originals.out) as typeof process.stdout.write;
  process.stderr.write = tap(process.stderr, originals.err) as typeof process.stderr.write;
  const server = http.createServer((req, res) => {
    const needle = new URL(req.url ?? "/", "http://x").searchParams.get("contains") ?? "";
    const hits = needle ? lines.filter((l) => l.includes(needle)).length : 0;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ lines: lines.length, hits }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  provide("logProbeUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return () => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    server.close();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    logProbeUrl: string;
    sandboxUrl: string;
  }
}
