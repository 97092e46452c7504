export { runHarness } from "./run.ts";
export type { HarnessOptions, HarnessReport, HarnessFormat } from "./run.ts";
export { ARG_BUILDERS } from "./builders.ts";
export type { ArgBuilder, BuilderContext } from "./demo-data.ts";
export { summaryTable, median } from "./report.ts";
