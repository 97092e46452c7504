// Arguments for every tool the harness calls, drawn from the demo data by querying the
// database (never hand-typed ids). Keyed by tool name: a listed tool without a builder is a
// failure, so a new tool cannot go untested. One file per server; merged here.
import type { ArgBuilder } from "./demo-data.ts";
import { customerDataBuilders } from "./builders-customer-data.ts";

export const ARG_BUILDERS: Readonly<Record<string, ArgBuilder>> = {
  ...customerDataBuilders,
};
