/**
 * The one structured logger. One JSON object per line, so Workers Logs can index the fields.
 * Message content must never be logged (ARCHITECTURE.md §5): fields whose names say they carry
 * content are replaced before anything is written, so a careless call cannot leak it. Likewise
 * every URL query in a string field (a logged URL, an error message quoting one) has its values
 * replaced (src/redact.ts): one-time tokens and OAuth codes ride in queries.
 */
import { redactUrls } from "./redact.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const CONTENT_KEYS = new Set(["text", "body", "subject", "draft", "content", "caption", "prompt", "message"]);
// A field may not overwrite the record's own keys: `event: "x"` in the fields becomes `field_event`.
const RESERVED = new Set(["level", "service", "event"]);

export type Logger = {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
};

export type LogSink = (line: string, level: LogLevel) => void;

const consoleSink: LogSink = (line, level) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

export function createLogger(service: string, base: LogFields = {}, sink: LogSink = consoleSink): Logger {
  const write = (level: LogLevel, event: string, fields: LogFields = {}) => {
    const record: Record<string, unknown> = { level, service, event };
    for (const [k, v] of Object.entries({ ...base, ...fields })) {
      const key = RESERVED.has(k) ? `field_${k}` : k;
      record[key] = CONTENT_KEYS.has(k.toLowerCase())
        ? "[redacted]"
        : typeof v === "string"
          ? redactUrls(v)
          : v;
    }
    sink(JSON.stringify(record), level);
  };
  return {
    debug: (e, f) => write("debug", e, f),
    info: (e, f) => write("info", e, f),
    warn: (e, f) => write("warn", e, f),
    error: (e, f) => write("error", e, f),
    child: (fields) => createLogger(service, { ...base, ...fields }, sink),
  };
}

/** A short, loggable description of anything thrown, without stack traces full of data. */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) return { error_name: err.name, error: err.message.slice(0, 300) };
  return { error: String(err).slice(0, 300) };
}
