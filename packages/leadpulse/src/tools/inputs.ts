// Input pieces several leadpulse tools share, as tools/list shows them: each thing said once
// (bounds and defaults are in the schema; what a range's parts mean is in its own description).
import { CursorInput } from "@marketsage/core";
import { TimeRangeInput } from "@marketsage/domain";
import { z } from "zod";

export const Cursor = CursorInput.describe("From next_cursor.");
export const limitInput = (def: number, max: number) => z.number().int().min(1).max(max).default(def);

const { preset, from, to } = TimeRangeInput.shape;
export const RANGE = "Preset or from/to (to exclusive)";
/** TimeRangeInput (the same values valid) with one description. */
export const rangeInput = (description = `${RANGE}; default 30d.`) =>
  z.object({ preset: preset.unwrap().optional(), from: from.unwrap().optional(), to: to.unwrap().optional() }).optional().describe(description);
