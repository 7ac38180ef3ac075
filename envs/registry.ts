/**
 * The environment registry: every family in one typed map, and lookup of named tasks as the
 * reference implementations name them.
 *
 * @module
 */
import type { EnvDef, EnvSpec } from "./env.ts";
import { LBF } from "./lbf/env.ts";
import { PURSUIT } from "./pursuit/env.ts";
import { RWARE } from "./rware/env.ts";
import { TRAFFIC } from "./traffic/env.ts";
import { TRAFFIC_LOCAL } from "./traffic/local.ts";
import { WAREHOUSE } from "./warehouse/env.ts";

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
 * Resolves a task name to its family and spec; throws naming the known families when unknown.
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
export function findTask(name: string): { def: EnvDef; spec: EnvSpec } {
  for (const def of Object.values(ENVS) as EnvDef[]) {
    const spec = def.parseTask(name);
    if (spec) return { def, spec };
  }
  const examples = (Object.values(ENVS) as EnvDef[]).flatMap((d) => d.tasks.slice(0, 2));
  throw new TypeError(
    `Cannot find environment "${name}": not a task of ${Object.keys(ENVS).join(", ")} (e.g. ${
      examples.join(", ")
    })`,
  );
}
