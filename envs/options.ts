/**
 * Env options: checking values against a family's {@linkcode EnvDef.options} (unknown keys, wrong
 * types, values outside the allowed set or range, each named by its dotted path) and filling in
 * the defaults. `findTask`, the families' `parseTask` and config validation all use these, so an
 * option is checked the same way wherever it comes from.
 *
 * @module
 */
import type { EnvDef, EnvOptions, EnvOptionValue } from "./env.ts";

/** One problem with an option value: `type` (unknown key, wrong type) or `range` (bad value). */
export interface EnvOptionProblem {
  readonly kind: "type" | "range";
  /** E.g. `"env.timeLimit" must be "truncate" or "terminate", got "x"`. */
  readonly message: string;
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? "a list" : String(v);
}

function orList(values: readonly string[]): string {
  const q = values.map((v) => JSON.stringify(v));
  return q.length < 2 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q.at(-1)}`;
}

/**
 * The problems of `options` against a family's option definitions, in key order: unknown keys
 * first, then each known option's type and value.
 *
 * @param defs The family's {@linkcode EnvDef.options} (undefined: the family takes none).
 * @param options Given values by option name (missing ones are not problems).
 * @param naming `path`: prefix of the dotted path in messages (e.g. `"env."`); `alsoAllowed`:
 *   other keys the caller accepts, listed with the options in the unknown-key message.
 * @returns The problems; empty when every value is allowed.
 */
export function envOptionProblems(
  defs: EnvDef["options"],
  options: Readonly<Record<string, unknown>>,
  naming: { path?: string; alsoAllowed?: readonly string[] } = {},
): EnvOptionProblem[] {
  const path = naming.path ?? "", known = defs ?? {};
  const allowed = [...(naming.alsoAllowed ?? []), ...Object.keys(known)];
  const out: EnvOptionProblem[] = [];
  for (const k of Object.keys(options)) {
    if (!(k in known)) {
      out.push({
        kind: "type",
        message: `unknown key "${path}${k}" (allowed: ${allowed.join(", ") || "none"})`,
      });
    }
  }
  for (const [k, def] of Object.entries(known)) {
    if (!(k in options)) continue;
    const v = options[k], at = `"${path}${k}"`;
    if (def.values) {
      if (typeof v !== "string" || !def.values.includes(v)) {
        out.push({
          kind: typeof v === "string" ? "range" : "type",
          message: `${at} must be ${orList(def.values)}, got ${show(v)}`,
        });
      }
    } else if (def.integer) {
      const [lo, hi] = def.integer;
      if (typeof v !== "number") {
        out.push({ kind: "type", message: `${at} must be an integer, got ${show(v)}` });
      } else if (!Number.isInteger(v) || v < lo || v > hi) {
        out.push({
          kind: "range",
          message: `${at} must be an integer between ${lo} and ${hi}, got ${v}`,
        });
      }
    } else if (typeof v !== typeof def.default || (typeof v === "number" && !Number.isFinite(v))) {
      out.push({
        kind: "type",
        message: `${at} must be a finite ${typeof def.default} (default ${
          show(def.default)
        }), got ${show(v)}`,
      });
    }
  }
  return out;
}

/**
 * Every option of a family with its value: the given one, else the default (in the order of
 * `defs`). Throws when {@linkcode envOptionProblems} finds any.
 *
 * @param defs The family's {@linkcode EnvDef.options}.
 * @param options Given values by option name.
 * @param what What the options are for, quoted in the error (e.g. the task name).
 * @returns The full options.
 * @throws TypeError (unknown key, wrong type) or RangeError (bad value) naming every problem.
 */
export function resolveEnvOptions(
  defs: EnvDef["options"],
  options: Readonly<Record<string, unknown>>,
  what: string,
): EnvOptions {
  const problems = envOptionProblems(defs, options);
  if (problems.length > 0) {
    const msg = `Cannot use options of "${what}": ${problems.map((p) => p.message).join("; ")}`;
    throw problems[0].kind === "range" ? new RangeError(msg) : new TypeError(msg);
  }
  const out: Record<string, EnvOptionValue> = {};
  for (const [k, def] of Object.entries(defs ?? {})) {
    out[k] = (options[k] as EnvOptionValue | undefined) ?? def.default;
  }
  return out;
}
