// Shared by the customer-data tests: clients per role on a cloned, seeded database, and raw SQL.
import { DEMO_ORGS } from "@marketsage/db";
import { useServerUnderTest } from "@marketsage/core/testing";
import { customerDataServer } from "../src/server.ts";

export const ORG_A = DEMO_ORGS[0]!;
export const ORG_B = DEMO_ORGS[1]!;

export const useCustomerData = () => useServerUnderTest(customerDataServer);

export const errorText = (r: unknown) => (((r as { content?: unknown }).content as Array<{ text?: string }>) ?? []).map((c) => c.text ?? "").join("\n");
