// A local SMTP server: `smtp-server` on 127.0.0.1 (no STARTTLS, auth optional, logger off) that
// takes mail from nodemailer exactly as a relay would, and records each message it accepted. The
// recipient's local part at SANDBOX_EMAIL_DOMAIN chooses what it does (sandbox/test-numbers.ts):
//   rejected → 550 5.1.1 at RCPT TO, invalid → 553 5.1.3 at RCPT TO, error → 451 4.3.0 at RCPT TO
//   (transient), timeout → DATA is read but never answered until close(); any other recipient
//   (delivered, bounce, stop_reply…) is accepted.
import type { Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from "smtp-server";
import { sandboxOutcome, type SandboxOutcome } from "./test-numbers.ts";

export interface SmtpEmulatorOptions {
  /** Credentials to require when the client authenticates (auth stays optional). */
  user?: string;
  pass?: string;
  /** Largest message accepted, in bytes (default 10 MiB). */
  maxSize?: number;
  /** Called with each accepted message (the sandbox's simulated readers: opens, clicks, unsubscribes). */
  onAccepted?: (m: ReceivedEmail) => void;
}

export interface ReceivedEmail {
  envelope: { from: string | null; to: string[] };
  /** The sandbox outcome per envelope recipient. */
  outcomes: Record<string, SandboxOutcome>;
  /** Whether the client authenticated (and as whom). */
  user: string | null;
  /** Header names lower-cased; the first value of each, unfolded, encoded words decoded. */
  headers: Record<string, string>;
  subject: string | null;
  messageId: string | null;
  listUnsubscribe: string | null;
  from: string | null;
  to: string | null;
  text: string | null;
  html: string | null;
  /** The message as it came after DATA (dot-unstuffed). */
  raw: string;
  receivedAt: Date;
}

export interface SmtpEmulator {
  readonly host: string;
  readonly port: number;
  readonly messages: ReceivedEmail[];
  /** Sessions whose DATA is being held unanswered (timeout recipients). */
  readonly hanging: number;
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

// ---- a small MIME reader (what nodemailer writes: 7bit / quoted-printable / base64, multipart) ----

interface Part {
  headers: Record<string, string>;
  body: string;
}

function splitHeaders(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : "";
  const headers: Record<string, string> = {};
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!(name in headers)) headers[name] = decodeWords(line.slice(i + 1).trim());
  }
  return { headers, body };
}

function decodeBytes(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase() === "us-ascii" ? "utf-8" : charset).decode(bytes);
  } catch {
    return bytes.toString("utf8");
  }
}

function qpBytes(s: string, header: boolean): Buffer {
  const src = header ? s.replace(/_/g, " ") : s.replace(/=\r?\n/g, "");
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      out.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, "utf8")) out.push(b);
    }
  }
  return Buffer.from(out);
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), adjacent words joined. */
function decodeWords(v: string): string {
  return v
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([QqBb])\?([^?]*)\?=/g, (_all, cs: string, enc: string, text: string) =>
      decodeBytes(enc.toUpperCase() === "B" ? Buffer.from(text, "base64") : qpBytes(text, true), cs),
    );
}

function param(value: string, name: string): string | null {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(value);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

function decodeBody(part: Part): string {
  const cte = (part.headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const charset = param(part.headers["content-type"] ?? "", "charset") ?? "utf-8";
  if (cte === "base64") return decodeBytes(Buffer.from(part.body.replace(/\s+/g, ""), "base64"), charset);
  if (cte === "quoted-printable") return decodeBytes(qpBytes(part.body, false), charset);
  return part.body;
}

function walk(part: Part, found: { text: string | null; html: string | null }, depth = 0): void {
  const ct = (part.headers["content-type"] ?? "text/plain").toLowerCase();
  if (ct.startsWith("multipart/") && depth < 10) {
    const boundary = param(part.headers["content-type"] ?? "", "boundary");
    if (!boundary) return;
    const chunks = part.body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*\\r?\\n?`));
    // chunks[0] is the preamble, the last one the epilogue
    for (const chunk of chunks.slice(1, -1)) walk(splitHeaders(chunk), found, depth + 1);
    return;
  }
  if ((part.headers["content-disposition"] ?? "").toLowerCase().startsWith("attachment")) return;
  const body = decodeBody(part).replace(/\r\n/g, "\n");
  if (ct.startsWith("text/html") && found.html === null) found.html = body;
  else if (ct.startsWith("text/plain") && found.text === null) found.text = body;
}

export function parseEmail(raw: string): Pick<ReceivedEmail, "headers" | "subject" | "messageId" | "listUnsubscribe" | "from" | "to" | "text" | "html"> {
  const top = splitHeaders(raw);
  // a single-part message ends with the line break before DATA's terminating dot
  if (!(top.headers["content-type"] ?? "").toLowerCase().startsWith("multipart/")) top.body = top.body.replace(/\r?\n$/, "");
  const found = { text: null as string | null, html: null as string | null };
  walk(top, found);
  const h = top.headers;
  return {
    headers: h,
    subject: h["subject"] ?? null,
    messageId: h["message-id"] ?? null,
    listUnsubscribe: h["list-unsubscribe"] ?? null,
    from: h["from"] ?? null,
    to: h["to"] ?? null,
    text: found.text,
    html: found.html,
  };
}

export async function startSmtpEmulator(opts: SmtpEmulatorOptions = {}): Promise<SmtpEmulator> {
  const host = "127.0.0.1";
  const messages: ReceivedEmail[] = [];
  const sockets = new Set<Socket>();
  let hanging = 0;

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    banner: "MarketSage sandbox ESMTP",
    size: opts.maxSize ?? 10 * 1024 * 1024,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      const okUser = opts.user === undefined || auth.username === opts.user;
      const okPass = opts.pass === undefined || auth.password === opts.pass;
      if (okUser && okPass) return callback(null, { user: auth.username });
      return callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const a = address.address;
      switch (sandboxOutcome(a)) {
        case "rejected":
          return callback(smtpError(550, `5.1.1 <${a}>: Recipient address rejected: User unknown in local recipient table`));
        case "invalid_number":
          return callback(smtpError(553, `5.1.3 <${a}>: Recipient address rejected: bad address syntax`));
        case "provider_error":
          return callback(smtpError(451, `4.3.0 <${a}>: Temporary local problem, please try again later`));
        default:
          return callback();
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const outcomes: Record<string, SandboxOutcome> = {};
        for (const r of to) outcomes[r] = sandboxOutcome(r);
        if (Object.values(outcomes).includes("no_answer")) {
          // Never answered: the client's timeout decides; close() ends the connection.
          hanging++;
          return;
        }
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          return callback(smtpError(552, "5.3.4 Message exceeds fixed maximum message size"));
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const from = session.envelope.mailFrom;
        const mail: ReceivedEmail = {
          envelope: { from: from ? from.address : null, to },
          outcomes,
          user: typeof session.user === "string" ? session.user : null,
          ...parseEmail(raw),
          raw,
          receivedAt: new Date(),
        };
        messages.push(mail);
        callback(null, `2.0.0 Ok: queued as ${messages.length}`);
        opts.onAccepted?.(mail);
      });
    },
  });

  server.server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // errors after start (a client resetting its connection) are not ours to raise
  server.on("error", () => {});
  server.server.unref();
  const port = (server.server.address() as AddressInfo).port;

  let closed: Promise<void> | null = null;
  return {
    host,
    port,
    messages,
    get hanging() {
      return hanging;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
