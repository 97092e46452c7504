// pnpm mcp:config: prints the block that registers every MarketSage server in an MCP client.
//   pnpm mcp:config [--client claude|cursor|vscode] [--role AI_AGENT|USER|ADMIN|IT_ADMIN|SUPER_ADMIN]
//                   [--org naija-retail|savanna-fintech] [--database-url URL] [--http [--url BASE]]
// The block runs the built bundles (node dist/main.js: ~150 ms to start, vs ~700 ms with tsx);
// with --http it points clients that take a URL at the HTTP host (`pnpm serve`) instead.
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { serverNames } from "@marketsage/catalog";
import { builtEntry, ensureBuilt } from "@marketsage/client";
import { defaultDataDir, DEMO_ORGS, DEMO_ROLES, demoApiKey, findRepoRoot, type Role } from "@marketsage/db";

const USAGE = `usage: pnpm mcp:config [--client claude|cursor|vscode] [--role ${DEMO_ROLES.join("|")}]
                       [--org ${DEMO_ORGS.map((o) => o.slug).join("|")}] [--database-url URL] [--http [--url BASE]]\n`;
const fail = (m: string): never => {
  process.stderr.write(`${m}\n${USAGE}`);
  process.exit(2);
};
let parsed;
try {
  parsed = parseArgs({
    options: {
      client: { type: "string", default: "claude" },
      role: { type: "string", default: "AI_AGENT" },
      org: { type: "string", default: DEMO_ORGS[0]!.slug },
      "database-url": { type: "string" },
      http: { type: "boolean", default: false },
      url: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (e) {
  fail((e as Error).message);
}
const { values } = parsed!;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const role = values.role!.toUpperCase() as Role;
if (!DEMO_ROLES.includes(role)) fail(`--role must be one of ${DEMO_ROLES.join(", ")}`);
const org = DEMO_ORGS.find((o) => o.slug === values.org) ?? fail(`--org must be one of ${DEMO_ORGS.map((o) => o.slug).join(", ")}`);
const client = values.client!;
if (!["claude", "cursor", "vscode"].includes(client)) fail("--client must be claude, cursor or vscode");

const names = serverNames();
if (values.http) {
  // Streamable HTTP: one host serves every server at /mcp/<server>; the key goes in a header.
  const base = (values.url ?? `http://127.0.0.1:${process.env.MCP_HTTP_PORT ?? "3333"}`).replace(/\/$/, "");
  const remote = names.map((name) => [
    `marketsage-${name}`,
    { type: "http", url: `${base}/mcp/${name}`, headers: { Authorization: `Bearer ${demoApiKey(org, role)}` } },
  ]);
  process.stdout.write(`${JSON.stringify(client === "vscode" ? { servers: Object.fromEntries(remote) } : { mcpServers: Object.fromEntries(remote) }, null, 2)}\n`);
  process.stderr.write(
    `\nStart the host first: pnpm serve (listens on ${base}). Key: ${role} of ${org.name} (a demo key for a local database).\n` +
      `Clients that take a URL (Claude Code's .mcp.json, Cursor, VS Code) accept this block; Claude Desktop adds remote servers under Settings → Connectors.\n`,
  );
  process.exit(0);
}
const built = ensureBuilt(names, { quiet: true });
if (built) process.stderr.write(`(built the server bundles: ${built})\n`);

const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
// Embedded: the server starts the shared PostgreSQL under the data directory on demand. Its port
// can change between restarts, so the block names the data directory, not a URL.
const dbEnv: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl } : { MARKETSAGE_DATA_DIR: process.env.MARKETSAGE_DATA_DIR ?? defaultDataDir() };
const flagEnv = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => /^MCP_(?!.*_URL$)/.test(k) && v !== undefined)) as Record<string, string>;

const entries = names.map((name) => [
  `marketsage-${name}`,
  {
    ...(client === "vscode" ? { type: "stdio" } : {}),
    command: process.execPath,
    args: [builtEntry(name, findRepoRoot())],
    env: { MARKETSAGE_API_KEY: demoApiKey(org, role), ...dbEnv, LOG_LEVEL: "warn", ...flagEnv },
  },
]);
const block = client === "vscode" ? { servers: Object.fromEntries(entries) } : { mcpServers: Object.fromEntries(entries) };
process.stdout.write(`${JSON.stringify(block, null, 2)}\n`);

const where: Record<string, string> = {
  claude:
    os.platform() === "darwin"
      ? "~/Library/Application Support/Claude/claude_desktop_config.json"
      : os.platform() === "win32"
        ? "%APPDATA%\\Claude\\claude_desktop_config.json"
        : "~/.config/Claude/claude_desktop_config.json",
  cursor: "~/.cursor/mcp.json (or .cursor/mcp.json in a project)",
  vscode: ".vscode/mcp.json in your workspace",
};
process.stderr.write(
  `\nPaste into ${where[client]} (merge with any servers already there). Key: ${role} of ${org.name} (a demo key for a local database).\n` +
    `Check one without a client: pnpm exec mcp-inspector --cli ${process.execPath} ${path.relative(process.cwd(), builtEntry(names[0]!, findRepoRoot()))} ` +
    `-e MARKETSAGE_API_KEY=${demoApiKey(org, role)} --method tools/list\n`,
);
