/**
 * The paper's expected number for the report's reference line: which preset a run comes from
 * (matched by its config, since run folders do not name their preset) and the number its
 * `# Expected:` line states, where it states one unambiguously. Reads preset files and YAML only
 * (the report loads no algorithm or environment).
 *
 * @module
 */
import { listPresets } from "./presets.ts";
import { parseYaml } from "./run_files.ts";

/** What a preset expects, for a report. */
export interface Expected {
  /** The preset the run matches. */
  preset: string;
  /** The `# Expected:` text. */
  text: string;
  /** The number, when the text states one unambiguously; else null (show the text). */
  value: number | null;
  /** Its spread (± std over the paper's seeds), when stated. */
  std: number | null;
  /** What the number measures: the run's evaluation value (the paper's protocol). */
  on: "evaluation" | null;
}

/**
 * Reads the number of an `Expected:` text. Two forms are unambiguous: SEAC's Table 1 values
 * (`45.11 ± 2.90 (paper Table 1: best model, …`, the best model's evaluation, team return) and
 * DIALS' figures (`mean [GS ]episodic return per agent ≈208 after 4M steps`, the evaluation on
 * the global simulator). Anything else ("about", "no Table 1 value", comparisons) gives null.
 *
 * @example
 * ```ts
 * import { parseExpected } from "./report_reference.ts";
 *
 * console.log(parseExpected("45.11 ± 2.90 (paper Table 1: best model, 100 stochastic episodes)"));
 * // { value: 45.11, std: 2.9, on: "evaluation" }
 * console.log(parseExpected("mean return rises to about 0.48")); // null
 * ```
 *
 * @param text The text after `Expected:`.
 * @returns The number, its std and what it measures, or null.
 */
export function parseExpected(
  text: string,
): { value: number; std: number | null; on: "evaluation" } | null {
  const table = /^(-?\d+(?:\.\d+)?)\s*±\s*(\d+(?:\.\d+)?)\s*\(paper Table \d+: best model/.exec(
    text.trim(),
  );
  if (table) return { value: Number(table[1]), std: Number(table[2]), on: "evaluation" };
  const fig = /^mean (?:GS )?episodic return per agent ≈\s*(-?\d+(?:\.\d+)?) after/.exec(
    text.trim(),
  );
  if (fig) return { value: Number(fig[1]), std: null, on: "evaluation" };
  return null;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether every key of `preset` has the same value in `run` (recursively for maps). */
function covers(run: unknown, preset: unknown): boolean {
  if (isMap(preset)) {
    return isMap(run) && Object.entries(preset).every(([k, v]) => covers(run[k], v));
  }
  if (Array.isArray(preset)) {
    return Array.isArray(run) && run.length === preset.length &&
      preset.every((v, i) => covers(run[i], v));
  }
  return run === preset;
}

function taskOf(env: unknown): unknown {
  return isMap(env) ? env.name : env;
}

/**
 * The preset a run's config comes from: the one preset whose algorithm name, task and `algo` and
 * `env` settings the run has (numEnvs, totalSteps, seed, logging and evaluation may differ, as
 * overrides for a short run change them); null when none or several match.
 *
 * @param config A run's config as read from its config.yaml.
 * @returns What that preset expects, or null.
 */
export async function expectedFor(config: Record<string, unknown>): Promise<Expected | null> {
  let presets;
  try {
    presets = await listPresets();
  } catch {
    return null; // presets not on the local file system (URL import)
  }
  const algo = isMap(config.algo) ? config.algo : {};
  const matches: Expected[] = [];
  for (const p of presets) {
    let raw: unknown;
    try {
      raw = await parseYaml(p.text, p.name);
    } catch {
      continue;
    }
    if (!isMap(raw) || !isMap(raw.algo) || raw.algo.name !== algo.name) continue;
    if (taskOf(raw.env) !== taskOf(config.env)) continue;
    if (isMap(raw.env) && !covers(config.env, raw.env)) continue;
    if (!covers(algo, raw.algo)) continue;
    matches.push({ preset: p.name, text: p.expected, ...nullable(parseExpected(p.expected)) });
  }
  return matches.length === 1 ? matches[0] : null;
}

function nullable(
  parsed: ReturnType<typeof parseExpected>,
): Pick<Expected, "value" | "std" | "on"> {
  return parsed ?? { value: null, std: null, on: null };
}
