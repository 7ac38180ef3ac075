/**
 * The algorithm registry: every training pipeline in one typed map, looked up by the config's
 * `algo.name`. Tests, `--list` and config validation iterate this map.
 *
 * @module
 */
import { DIALS, UNTRAINED_DIALS } from "./dials/mod.ts";
import { IDQN_ALGORITHMS, IDQN_EVAL_PROTOCOL } from "./idqn/mod.ts";
import { LBS as LBS_PIPELINE } from "./lbs/mod.ts";
import { PPO_GS_EVALUATED as PPO_GS } from "./dials/gs_eval.ts";
import { RANDOM } from "./random_policy.ts";
import { IAC, SEAC, SNAC } from "./seac/mod.ts";
import { SUPER } from "./super/mod.ts";
import type { AlgorithmDef } from "./trainer.ts";

/** LBS with the evaluation of the comparison it belongs to (the SUPER/RLlib protocol). */
const LBS: typeof LBS_PIPELINE = Object.freeze({
  ...LBS_PIPELINE,
  evalProtocol: () => IDQN_EVAL_PROTOCOL,
});

/**
 * Every algorithm, by the name configs use in `algo.name`.
 *
 * @example List the algorithms and their default hyper-parameters
 * ```ts
 * import { ALGORITHMS, findAlgorithm } from "../mod.ts";
 *
 * console.log(Object.keys(ALGORITHMS)); // random, seac, iac, snac, idqn, …
 * console.log(findAlgorithm("seac")?.defaults, findAlgorithm("nope")); // SEAC's defaults, null
 * ```
 */
export const ALGORITHMS = {
  random: RANDOM,
  seac: SEAC,
  iac: IAC,
  snac: SNAC,
  ...IDQN_ALGORITHMS,
  super: SUPER,
  lbs: LBS,
  dials: DIALS,
  untrained_dials: UNTRAINED_DIALS,
  ppo_gs: PPO_GS,
} as const satisfies Record<string, AlgorithmDef<object>>;

/** Algorithm names. */
export type AlgorithmName = keyof typeof ALGORITHMS;

/** The hyper-parameter type of algorithm `N` (the type of its defaults). */
export type AlgorithmConfig<N extends AlgorithmName> = (typeof ALGORITHMS)[N] extends
  AlgorithmDef<infer C> ? C : never;

/**
 * A validated `algo:` section of a config: one variant per registered algorithm, told apart by
 * `name`, with every hyper-parameter of that algorithm filled in (defaults where the config was
 * silent). Narrow on `name` to read an algorithm's fields:
 *
 * ```ts
 * import type { AlgoSection } from "./mod.ts";
 * function learningRate(algo: AlgoSection): number | null {
 *   return algo.name === "seac" ? algo.lr : null;
 * }
 * ```
 */
export type AlgoSection = {
  [N in AlgorithmName]: { readonly name: N } & Readonly<AlgorithmConfig<N>>;
}[AlgorithmName];

/**
 * The algorithm called `name`, or null.
 *
 * @example List the algorithms and their default hyper-parameters
 * ```ts
 * import { ALGORITHMS, findAlgorithm } from "../mod.ts";
 *
 * console.log(Object.keys(ALGORITHMS)); // random, seac, iac, snac, idqn, …
 * console.log(findAlgorithm("seac")?.defaults, findAlgorithm("nope")); // SEAC's defaults, null
 * ```
 */
export function findAlgorithm(name: string): AlgorithmDef<object> | null {
  return Object.hasOwn(ALGORITHMS, name)
    ? (ALGORITHMS as Record<string, AlgorithmDef<object>>)[name]
    : null;
}
