import pino, { type Logger } from "pino";

export type { Logger };

/** Paths whose values never reach a log line: secrets and personal data. */
export const REDACT_PATHS = [
  "apiKey",
  "*.apiKey",
  "key",
  "*.key",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "email",
  "*.email",
  "phone",
  "*.phone",
  "recipient",
  "*.recipient",
  "body",
  "*.body",
  "args",
  "*.args",
  "databaseUrl",
];

/** pino to stderr only: stdout carries the MCP protocol. */
export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: opts.name ?? "marketsage",
      level: opts.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: { pid: process.pid },
    },
    opts.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}
