// What the HTTP emulators share: a request's body, and a form body as a record.
import type { IncomingMessage } from "node:http";

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function formRecord(s: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(s));
}
