export { runHarness } from "./run.ts";
export type { HarnessOptions, HarnessReport, HarnessFormat } from "./run.ts";
export type { ArgBuilder, BuilderContext } from "./demo-data.ts";
export { summaryTable, median } from "./report.ts";
