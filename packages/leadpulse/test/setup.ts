// Shared by the leadpulse tests: clients per role on a cloned, seeded database, and raw SQL.
// `useLeadpulse(tools)` serves only the given tools (a test of one tool needs no others).
import type { AnyTool } from "@marketsage/core";
import { DEMO_ORGS } from "@marketsage/db";
import { useServerUnderTest } from "@marketsage/core/testing";
import { leadpulseServer } from "../src/server.ts";

export const ORG_A = DEMO_ORGS[0]!;
export const ORG_B = DEMO_ORGS[1]!;

export const useLeadpulse = (tools?: readonly AnyTool[]) =>
  useServerUnderTest(tools ? { ...leadpulseServer, tools: [...tools] } : leadpulseServer);

export const textOf = (r: unknown) => (((r as { content?: unknown }).content as Array<{ text?: string }>) ?? []).map((c) => c.text ?? "").join("\n");
