/**
 * LBS — Large Batch Sharing (docs/algorithms/lbs.md) as a `BatchSource` of the IDQN pipeline. Each
 * learning tick: every agent j draws B rows from its own ring with p1 (uniform, or PER with IS
 * weights); the M draws are pooled in agent order (K = M·B items, the same pool for every learner);
 * every learner i scores the pool with its own online and target networks (|δ|, the training TD
 * definition); it resamples B items with replacement from p2 ∝ g = max(|δ|, 1e-8), the paper's
 * distribution (or max(min(|δ|, clip), 1e-8) with `priorityClip` > 0, LaBER's Huber form;
 * engine/replay/sampling.ts `createLbsSampler`), or uniformly (p2 = "uniform": "IDQN same RB"), and
 * weights each by 1/(K·p2) (times the item's p1 IS weight under PER). With PER p1, ring j's
 * priorities become learner j's |δ| + ε on its own draws (PROPOSAL: the owner's score).
 *
 * The p2 draws use seed ⊕ P2_SEED_SALT so they are independent of the p1 draws (both samplers key
 * their RNG by (seed, purpose `sample`, ring, item, call)).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import { checkIdqnConfig, IDQN_DEFAULTS, type IdqnConfig } from "../idqn/config.ts";
import { createIdqnTrainer } from "../idqn/mod.ts";
import { createLbsSource, type LbsSource } from "./source.ts";
import { StageTrainer } from "../idqn/stage_metrics.ts";
import type { AlgorithmDef, RunConfig, Trainer } from "../trainer.ts";

export { createLbsSource, type LbsSource, type LbsSourceOptions, P2_SEED_SALT } from "./source.ts";

/** LBS hyper-parameters: the DQN learner's plus the resampling's (docs/algorithms/lbs.md §2, §4). */
export interface LbsConfig extends IdqnConfig {
  /** Second-stage distribution: "td" (∝ |δ|, LBS) or "uniform" ("IDQN same RB"). */
  p2: string;
  /**
   * Clip c of |δ| in p2, p2 ∝ min(|δ|, c); 0 for none (the paper's p2 ∝ |δ|). 1 gives LaBER's
   * |∂Huber/∂Q| = min(|δ|, 1).
   */
  priorityClip: number;
}

/**
 * LBS on Pursuit: the algo values of the reference preset `app/presets/lbs_pursuit.yaml`
 * (docs/algorithms/lbs.md §4). The learner is the RLlib dueling double DQN of the comparison's IDQN
 * preset (docs/algorithms/idqn.md §4.1: CNN [32, 64, 64] → 64 → 256, dueling streams of 256, Huber,
 * lr 1.6e-4, batch 32, buffer 120 000, target every 1000 env steps, ε 0.1 → 0.001 over 100 000)
 * with uniform replay (p1 uniform: `prioritized: false`, LBS paper §3 and App. B); p2 ∝ |δ| as the
 * paper's text states (`priorityClip: 0`).
 */
export const LBS_DEFAULTS: Readonly<LbsConfig> = Object.freeze({
  ...IDQN_DEFAULTS,
  prioritized: false,
  double: true,
  dueling: true,
  embed: 256,
  headHidden: 256,
  headInit: "xavierZero",
  p2: "td",
  priorityClip: 0,
});

/** Checks the LBS settings (and the learner's); problems as `"algo.x" message`. */
export function checkLbsConfig(run: RunConfig | null, c: LbsConfig): string[] {
  const out = checkIdqnConfig("idqn", run, c);
  if (c.p2 !== "td" && c.p2 !== "uniform") {
    out.push(`"algo.p2" must be "td" or "uniform", got "${c.p2}"`);
  }
  if (!(c.priorityClip >= 0)) {
    out.push(`"algo.priorityClip" must be >= 0 (0: none), got ${c.priorityClip}`);
  }
  return out;
}

async function createLbs(
  engine: Engine,
  run: RunConfig,
  algo: LbsConfig,
  seeds = 1,
): Promise<Trainer> {
  const problems = checkLbsConfig(run, algo);
  if (problems.length > 0) throw new RangeError(`Cannot build "lbs": ${problems.join("; ")}`);
  let source: LbsSource | null = null;
  const inner = await createIdqnTrainer(engine, "idqn", run, algo, {
    label: "lbs",
    seeds,
    async batchSource(parts) {
      source = await createLbsSource(parts, {
        p2: algo.p2 === "uniform" ? "uniform" : "td",
        priorityClip: algo.priorityClip,
        label: "lbs.source",
      });
      return source;
    },
  });
  return new StageTrainer(engine, inner, source!.metrics);
}

/** LBS: pooled p1 draws resampled per learner by its own |δ| (docs/algorithms/lbs.md; LaBER for details). */
export const LBS: AlgorithmDef<LbsConfig> = Object.freeze<AlgorithmDef<LbsConfig>>({
  name: "lbs",
  source:
    "Large Batch Sharing (seed 000, App. B) with LaBER details (Lahire et al. 2022), docs/algorithms/lbs.md",
  defaults: LBS_DEFAULTS,
  check: checkLbsConfig,
  create: (engine, run, algo) => createLbs(engine, run, algo),
  createSeeds: createLbs,
});
