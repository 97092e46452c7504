// Input schemas are strict by construction: every object in a tool's input refuses keys it does
// not declare (an argument a model invents must fail loudly, not be dropped on the floor), and the
// refusal names the key and the accepted ones. Applied once, in defineTool, to every tool.
import { z } from "zod";

type Node = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;

/** The same schema with every object in it strict; an object that set its own catchall keeps it. */
export function strictInput<S extends z.ZodType>(schema: S): S {
  return strictNode(schema, true) as S;
}

function accepted(shape: Record<string, unknown>): string {
  const keys = Object.keys(shape);
  return keys.length ? keys.join(", ") : "(none)";
}

function unknownKeysMessage(keys: readonly string[], shape: Record<string, unknown>, root: boolean): string {
  const what = root ? (keys.length > 1 ? "Unknown arguments" : "Unknown argument") : keys.length > 1 ? "unknown keys" : "unknown key";
  return `${what} ${keys.map((k) => JSON.stringify(k)).join(", ")}; accepted: ${accepted(shape)}`;
}

function rebuild(schema: Node, changes: Record<string, unknown>): Node {
  const copy = (schema as z.ZodType).clone(z.util.mergeDefs(schema._zod.def, changes) as z.core.$ZodTypeDef);
  // .describe()/.meta() live in the registry, keyed by instance: carry them to the copy.
  const meta = z.globalRegistry.get(schema);
  if (meta) z.globalRegistry.add(copy, meta);
  return copy;
}

function strictNode(schema: Node, root: boolean): Node {
  const def = schema._zod.def as Def;
  switch (def.type) {
    case "object": {
      const shape = (def as unknown as z.core.$ZodObjectDef).shape;
      let changed = false;
      const next: Record<string, Node> = {};
      for (const [k, v] of Object.entries(shape)) {
        next[k] = strictNode(v, false);
        if (next[k] !== v) changed = true;
      }
      // An explicit catchall (loose, passthrough, a value schema) is a decision: keep it.
      if (def.catchall !== undefined) return changed ? rebuild(schema, { shape: next }) : schema;
      const own = def.error as ((iss: z.core.$ZodRawIssue) => unknown) | undefined;
      const error = (iss: z.core.$ZodRawIssue) =>
        iss.code === "unrecognized_keys" ? unknownKeysMessage(iss.keys as string[], next, root) : own?.(iss);
      return rebuild(schema, { shape: next, catchall: z.never(), error });
    }
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "readonly":
    case "catch":
      return wrap(schema, "innerType", root);
    case "array":
      return wrap(schema, "element", false);
    case "record":
      return wrap(schema, "valueType", false);
    case "pipe":
      return wrap(schema, "in", root);
    case "union": {
      const options = def.options as Node[];
      const next = options.map((o) => strictNode(o, root));
      return next.some((o, i) => o !== options[i]) ? rebuild(schema, { options: next }) : schema;
    }
    case "intersection": {
      const left = strictNode(def.left as Node, root);
      const right = strictNode(def.right as Node, root);
      return left !== def.left || right !== def.right ? rebuild(schema, { left, right }) : schema;
    }
    case "tuple": {
      const items = def.items as Node[];
      const next = items.map((o) => strictNode(o, false));
      const rest = def.rest ? strictNode(def.rest as Node, false) : def.rest;
      return next.some((o, i) => o !== items[i]) || rest !== def.rest ? rebuild(schema, { items: next, rest }) : schema;
    }
    default:
      // Scalars, enums, literals, unknown/any, lazy: nothing to close.
      return schema;
  }
}

function wrap(schema: Node, key: string, root: boolean): Node {
  const inner = (schema._zod.def as Def)[key] as Node;
  const next = strictNode(inner, root);
  return next === inner ? schema : rebuild(schema, { [key]: next });
}
