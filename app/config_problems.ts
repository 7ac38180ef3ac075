/**
 * The problems config validation collects (`app/config.ts`, `app/eval_config.ts`): each names its
 * dotted path and the allowed values; all of a config's problems are reported together.
 *
 * @module
 */

/** One problem found in a config. */
export interface Problem {
  kind: "syntax" | "type" | "range";
  message: string;
}

/** Whether `v` is a map (a plain object, not a list or null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value as problems quote it: strings in quotes, lists as "a list". */
export function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? "a list" : String(v);
}

/** The YAML-ish type name of a value ("list", "null", "number" …). */
export function typeName(v: unknown): string {
  return Array.isArray(v) ? "list" : v === null ? "null" : typeof v;
}

/**
 * Checks that `v` is an integer within `[lo, hi]` (inclusive), else adds a problem naming `path`.
 *
 * @param path Dotted path, e.g. "eval.episodes".
 * @param v The value.
 * @param range Inclusive bounds; `hi` = Number.MAX_SAFE_INTEGER reads as no upper bound.
 * @param problems Where problems go.
 * @returns Whether `v` passed.
 */
export function checkIntegerIn(
  path: string,
  v: unknown,
  range: readonly [number, number],
  problems: Problem[],
): v is number {
  const [lo, hi] = range;
  if (typeof v !== "number") {
    problems.push({ kind: "type", message: `"${path}" must be an integer, got ${show(v)}` });
    return false;
  }
  if (!Number.isInteger(v) || v < lo || v > hi) {
    const upper = hi === Number.MAX_SAFE_INTEGER ? "" : ` and ${hi}`;
    problems.push({
      kind: "range",
      message: `"${path}" must be an integer ${upper ? "between" : ">="} ${lo}${upper}, got ${v}`,
    });
    return false;
  }
  return true;
}

/** Adds a problem for every key of `obj` not in `allowed`, named `<prefix><key>`. */
export function unknownKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
  problems: Problem[],
): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      problems.push({
        kind: "type",
        message: `unknown key "${prefix}${k}" (allowed: ${allowed.join(", ") || "none"})`,
      });
    }
  }
}
