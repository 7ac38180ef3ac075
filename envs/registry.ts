/**
 * The environment registry: every family in one typed map, and lookup of named tasks as the
 * reference implementations name them.
 *
 * @module
 */
import type { EnvDef, EnvOptions, EnvOptionValue, EnvSpec } from "./env.ts";
import { LBF } from "./lbf/env.ts";
import { PURSUIT } from "./pursuit/env.ts";
import { RWARE } from "./rware/env.ts";
import { TRAFFIC } from "./traffic/env.ts";
import { TRAFFIC_LOCAL } from "./traffic/local.ts";
import { WAREHOUSE } from "./warehouse/env.ts";
import { resolveEnvOptions } from "./options.ts";

/**
 * Every environment family. Tests and `--list` iterate this map.
 *
 * @example List the environment families and one task's sizes
 * ```ts
 * import { ENVS, findTask } from "../mod.ts";
 *
 * console.log(Object.keys(ENVS)); // the families: lbf, rware, pursuit, …
 * const { spec } = findTask("rware-tiny-4ag-v2");
 * console.log(spec.numAgents, spec.obsShape, spec.numActions);
 * ```
 */
export const ENVS = {
  lbf: LBF,
  pursuit: PURSUIT,
  rware: RWARE,
  traffic: TRAFFIC,
  "traffic-local": TRAFFIC_LOCAL,
  warehouse: WAREHOUSE,
} as const satisfies Record<string, EnvDef>;

/** Family names. */
export type EnvFamily = keyof typeof ENVS;

/**
 * A task with options, as a config's `env` map gives it: the registered task `name` and values
 * of the family's {@linkcode EnvDef.options} (e.g. `{ name: "Foraging-8x8-2p-2f-coop",
 * maxEpisodeSteps: 25 }`).
 */
export interface EnvSection {
  readonly name: string;
  readonly [option: string]: EnvOptionValue;
}

/**
 * Resolves a task to its family and spec: a task name, or an {@linkcode EnvSection} whose other
 * keys are options of the task's family; `options` adds or replaces options. Throws naming the
 * known families when the name is unknown, and naming every problem when an option is unknown to
 * the family or has a value it does not allow.
 *
 * @example List the environment families and one task's sizes
 * ```ts
 * import { ENVS, findTask } from "../mod.ts";
 *
 * console.log(Object.keys(ENVS)); // the families: lbf, rware, pursuit, …
 * const { spec } = findTask("rware-tiny-4ag-v2");
 * console.log(spec.numAgents, spec.obsShape, spec.numActions);
 * // LBF with SEAC's 25-step episodes, time-outs reported as truncations
 * const lbf = findTask({ name: "Foraging-8x8-2p-2f-coop", maxEpisodeSteps: 25 }, {
 *   timeLimit: "truncate",
 * });
 * console.log(lbf.spec.maxSteps, lbf.spec.config.timeLimit); // 25 "truncate"
 * ```
 */
export function findTask(
  task: string | EnvSection,
  options: EnvOptions = {},
): { def: EnvDef; spec: EnvSpec } {
  const { name, ...given } = typeof task === "string" ? { name: task } : task;
  const all = { ...given, ...options };
  for (const def of Object.values(ENVS) as EnvDef[]) {
    if (!def.parseTask(name)) continue;
    const resolved = resolveEnvOptions(def.options, all, name);
    const spec = Object.keys(resolved).length > 0
      ? def.parseTask(name, resolved)
      : def.parseTask(name);
    return { def, spec: spec! };
  }
  const examples = (Object.values(ENVS) as EnvDef[]).flatMap((d) => d.tasks.slice(0, 2));
  throw new TypeError(
    `Cannot find environment "${name}": not a task of ${Object.keys(ENVS).join(", ")} (e.g. ${
      examples.join(", ")
    })`,
  );
}
