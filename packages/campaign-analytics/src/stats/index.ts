// The statistics the campaign-analytics tools report: pure functions, no I/O.
export { normalPdf, normalCdf, normalSf, normalQuantile, chiSquare1Sf } from "./normal.ts";
export { logGamma, logBeta, logBetaPdf, betaPdf, regularizedIncompleteBeta, logRegularizedIncompleteBeta } from "./beta.ts";
export { wilsonInterval, twoProportionTest, holmAdjust, assertCounts } from "./proportions.ts";
export type { Counts, Interval, ProportionTest } from "./proportions.ts";
export { sampleSizePerVariant, sampleSizePerVariantExact, twoProportionPower } from "./sample-size.ts";
export type { PowerOptions } from "./sample-size.ts";
export { probabilityToBeBest } from "./bayes.ts";
export { theilSen } from "./trend.ts";
export type { Slope } from "./trend.ts";
