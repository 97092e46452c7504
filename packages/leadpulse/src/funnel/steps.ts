// Funnel steps: what a caller may ask for (a touchpoint type, a URL path pattern, or both), the
// 2–8 step list, the syntax paragraph a tool description carries, and the same match in
// TypeScript that the SQL does with `url ~ urlPatternRegex(p)` (PostgreSQL and JavaScript agree
// on that regex; @marketsage/domain's text-match tests check it).
import { z } from "zod";
import { TouchpointTypeEnum, urlPatternRegex, type TouchpointTypeName } from "@marketsage/domain";

export const MIN_STEPS = 2;
export const MAX_STEPS = 8;
export const MAX_STEP_NAME = 80;
/** As customer-data's `visited` rule. */
export const MAX_URL_PATTERN = 300;

/** A path (`/pricing`, `/blog/*`) or a full URL whose scheme and host are then ignored. */
const UrlPattern = z
  .string({ error: "must be a string (a URL path pattern such as /pricing or /blog/*)" })
  .trim()
  .min(1, { error: "empty (give a URL path pattern such as /pricing or /blog/*)" })
  .max(MAX_URL_PATTERN, { error: `longer than ${MAX_URL_PATTERN} characters` })
  .refine((p) => p.startsWith("/") || /^https?:\/\/[^/]+/i.test(p), {
    error: "not a URL path pattern: start with / (e.g. /pricing, /products/*/reviews) or a full http(s) URL",
  });

export const FunnelStep = z
  .strictObject({
    name: z
      .string({ error: "must be a string" })
      .trim()
      .min(1, { error: "empty (leave it out to use the type and URL as the name)" })
      .max(MAX_STEP_NAME, { error: `longer than ${MAX_STEP_NAME} characters` })
      .optional()
      .describe("Default: type and URL."),
    type: TouchpointTypeEnum.optional(),
    url: UrlPattern.optional(),
  })
  .refine((s) => s.type !== undefined || s.url !== undefined, {
    error: (iss) => {
      const name = (iss.input as { name?: unknown } | undefined)?.name;
      const which = typeof name === "string" && name.trim() !== "" ? `step "${name.trim()}"` : "a step";
      return `${which} has neither a type nor a url: give a touchpoint type (${TouchpointTypeEnum.options.join(", ")}), a URL path pattern, or both`;
    },
  });
export type FunnelStepInput = z.infer<typeof FunnelStep>;

export const FunnelSteps = z
  .array(FunnelStep, { error: "must be a list of steps" })
  .min(MIN_STEPS, { error: `a funnel needs at least ${MIN_STEPS} steps` })
  .max(MAX_STEPS, { error: `a funnel has at most ${MAX_STEPS} steps` });

export const FUNNEL_SYNTAX =
  "Steps match a touchpoint by type, URL pattern (`*` = any run in the path; host, query ignored) or both. Step 1: the " +
  "unit's first match in the range; each next step: its first match strictly later, within the window after step 1.";

/** The step's label in answers: its name, else its type and URL pattern. */
export function stepLabel(step: FunnelStepInput): string {
  return step.name ?? [step.type, step.url].filter((s) => s !== undefined).join(" ");
}

const compiled = new Map<string, RegExp>();
function patternRegex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(urlPatternRegex(pattern));
    compiled.set(pattern, re);
  }
  return re;
}

/** Does the touchpoint satisfy the step? The type must equal the step's (when given) and the URL
 *  match its pattern (when given). */
export function matchesStep(step: { type?: TouchpointTypeName | undefined; url?: string | undefined }, tp: { type: string; url: string }): boolean {
  if (step.type !== undefined && tp.type !== step.type) return false;
  if (step.url !== undefined && !patternRegex(step.url).test(tp.url)) return false;
  return true;
}
