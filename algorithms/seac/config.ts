/**
 * Configuration of the SEAC family: hyper-parameters with the paper's defaults, their semantic
 * checks, the actor and critic shapes and the reference initialisation.
 *
 * @module
 */
import { initNetParams } from "../../engine/init.ts";
import { mlpInit, mlpParamCount, type MlpSpec } from "../../engine/nn/mlp.ts";
import type { ForeignTarget } from "./learner.ts";
import type { RunConfig } from "../trainer.ts";

/** Hyper-parameters of the SEAC family (defaults: docs/algorithms/seac.md §1, paper Table 2). */
export interface SeacConfig {
  /** Weight of the other agents' experience (SEAC 1; IAC and SNAC ignore it). */
  lambda: number;
  /** Targets of foreign data: "collectorReturn" (reference code) or "learnerBootstrap" (paper). */
  foreignTarget: string;
  /** Rollout length per env per update [steps]. */
  nSteps: number;
  /** Discount in [0, 1). */
  gamma: number;
  /** Adam step size. */
  lr: number;
  /** Adam denominator guard. */
  adamEps: number;
  /** Global-norm clip over each agent's actor + critic gradients (0 disables). */
  maxGradNorm: number;
  /** Entropy bonus coefficient (own data only). */
  entropyCoef: number;
  /** Value-loss coefficient. */
  valueCoef: number;
  /** Width of both hidden layers of actor and critic. */
  hidden: number;
  /** Iterations recorded per command buffer (submit). */
  iterationsPerSubmit: number;
}

/** Defaults shared by SEAC, IAC and SNAC. */
export const SEAC_DEFAULTS: Readonly<SeacConfig> = Object.freeze({
  lambda: 1,
  foreignTarget: "collectorReturn",
  nSteps: 5,
  gamma: 0.99,
  lr: 3e-4,
  adamEps: 1e-3,
  maxGradNorm: 0.5,
  entropyCoef: 0.01,
  valueCoef: 0.5,
  hidden: 64,
  iterationsPerSubmit: 32,
});

const FOREIGN_TARGETS: readonly ForeignTarget[] = ["collectorReturn", "learnerBootstrap"];

/** Semantic checks of a SEAC-family config ("path: message"). */
export function checkSeacConfig(_run: RunConfig, c: SeacConfig): string[] {
  const out: string[] = [];
  const intAtLeast = (name: keyof SeacConfig, v: number, min: number) => {
    if (!(Number.isInteger(v) && v >= min)) {
      out.push(`algo.${name}: ${v} is not an integer >= ${min}`);
    }
  };
  intAtLeast("nSteps", c.nSteps, 1);
  intAtLeast("hidden", c.hidden, 1);
  intAtLeast("iterationsPerSubmit", c.iterationsPerSubmit, 1);
  if (!(c.gamma >= 0 && c.gamma < 1)) out.push(`algo.gamma: ${c.gamma} is not in [0, 1)`);
  if (!(c.lr > 0)) out.push(`algo.lr: ${c.lr} is not > 0`);
  if (!(c.adamEps > 0)) out.push(`algo.adamEps: ${c.adamEps} is not > 0`);
  if (!(c.maxGradNorm >= 0)) out.push(`algo.maxGradNorm: ${c.maxGradNorm} is not >= 0`);
  if (!(c.lambda >= 0)) out.push(`algo.lambda: ${c.lambda} is not >= 0`);
  if (!(c.entropyCoef >= 0)) out.push(`algo.entropyCoef: ${c.entropyCoef} is not >= 0`);
  if (!(c.valueCoef >= 0)) out.push(`algo.valueCoef: ${c.valueCoef} is not >= 0`);
  if (!FOREIGN_TARGETS.includes(c.foreignTarget as ForeignTarget)) {
    out.push(
      `algo.foreignTarget: "${c.foreignTarget}" is not one of ${FOREIGN_TARGETS.join(", ")}`,
    );
  }
  return out;
}

/** Actor and critic MLP specs: obs → hidden → hidden (ReLU) → logits / value. */
export function seacSpecs(
  obsDim: number,
  numActions: number,
  hidden: number,
): { actor: MlpSpec; critic: MlpSpec } {
  return {
    actor: { sizes: [obsDim, hidden, hidden, numActions], hidden: "relu", output: "identity" },
    critic: { sizes: [obsDim, hidden, hidden, 1], hidden: "relu", output: "identity" },
  };
}

/**
 * Initial parameters as the reference (`seac/model.py`): orthogonal weights with gain √2 for the
 * hidden layers and the critic head, 0.01 for the policy head, zero biases. Block layout: actor at
 * offset 0, critic right after.
 */
export function seacInitParams(
  numBlocks: number,
  specs: { actor: MlpSpec; critic: MlpSpec },
  seed: number,
): Float32Array {
  const actorCount = mlpParamCount(specs.actor);
  const stride = actorCount + mlpParamCount(specs.critic);
  const zeros = { kind: "zeros" } as const;
  const tensors = [
    ...mlpInit(specs.actor, 0, {
      weight: (_l, last) => ({ kind: "orthogonal", gain: last ? 0.01 : Math.SQRT2 }),
      bias: () => zeros,
    }),
    ...mlpInit(specs.critic, actorCount, {
      weight: () => ({ kind: "orthogonal", gain: Math.SQRT2 }),
      bias: () => zeros,
    }),
  ];
  return initNetParams({ numAgents: numBlocks, stride, seed, tensors });
}
