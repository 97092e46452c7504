// What the HTTP emulators share on the wire: a request's body, a form body as a record, and an
// answer with its length.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function formRecord(s: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(s));
}

/** Answers `body` as `type` with its content-length (and any further headers). */
export function reply(res: ServerResponse, status: number, type: string, body: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}
