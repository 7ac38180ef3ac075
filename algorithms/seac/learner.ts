/**
 * The SEAC-family update (docs/algorithms/seac.md §2, §3): every learner's actor and critic evaluated on its
 * gathered batch (all agents' rollouts for SEAC and SNAC, its own for IAC) in one batched
 * forward, the fused loss kernel (importance-weighted foreign terms, own entropy), backward into
 * the learner's gradient block, then one Adam step with per-learner global-norm clipping. Kernels
 * in `shaders/algorithms/seac/learner.wgsl`.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import { type Adam, createAdam } from "../../engine/nn/adam.ts";
import { createAgentMean } from "../../engine/ops/agent_mean.ts";
import type { MlpSpec } from "../../engine/nn/mlp.ts";
import type { Net } from "../../engine/nn/net.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { createSeacMlp, type SeacMlp } from "./net.ts";
import type { RolloutStorage } from "./rollout.ts";

const SHADER = "algorithms/seac/learner.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl", "common/_categorical.wgsl"] as const;
const PARAMS = {
  numLearners: "u32",
  numSources: "u32",
  numAgents: "u32",
  numEnvs: "u32",
  obsDim: "u32",
  numActions: "u32",
  nSteps: "u32",
  rowSteps: "u32",
  ownOnly: "u32",
  sharedNet: "u32",
  targetMode: "u32",
  numSeeds: "u32",
  lambda: "f32",
  gamma: "f32",
  entropyCoef: "f32",
  valueCoef: "f32",
} as const;
type Sizes = { numLearners: number; numSources: number; rowSteps: number; numEnvs: number };
const rowCount = (p: Sizes) => p.numLearners * p.numSources * p.rowSteps * p.numEnvs;

/** Metric fields of the loss terms: policy loss, value loss, own entropy, foreign ratio. */
export const SEAC_FIELDS = 4;

/** Gathers every learner's batch rows (obs, action, behaviour log-prob, collector return). */
export const seacGather = defineKernel({
  name: "seac.loss.gather",
  shader: SHADER,
  entryPoint: "gather",
  includes: INCLUDES,
  bindings: {
    obsIn: "read",
    actIn: "read",
    logpIn: "read",
    returnsIn: "read",
    x: "write",
    actRow: "write",
    behRow: "write",
    targets: "write",
  },
  params: PARAMS,
  threads: rowCount,
});

/** n-step targets of foreign data bootstrapped with the learner's own critic ("learnerBootstrap"). */
export const seacBootTargets = defineKernel({
  name: "seac.loss.bootTargets",
  shader: SHADER,
  entryPoint: "bootTargets",
  includes: INCLUDES,
  bindings: { valueIn: "read", rewardIn: "read", maskIn: "read", badIn: "read", targets: "write" },
  params: PARAMS,
  threads: (p) => p.numLearners * p.numSources * p.numEnvs,
});

/** Per-row loss terms and the gradients w.r.t. logits and value. */
export const seacLoss = defineKernel({
  name: "seac.loss.loss",
  shader: SHADER,
  entryPoint: "loss",
  includes: INCLUDES,
  bindings: {
    logits: "read",
    value: "read",
    actRowIn: "read",
    behRowIn: "read",
    targetsIn: "read",
    dLogits: "write",
    dValue: "write",
    terms: "write",
  },
  params: PARAMS,
  threads: rowCount,
});

/** Adds one update's loss sums and gradient norms into the metrics accumulator. */
export const seacAccumulate = defineKernel({
  name: "seac.loss.accumulate",
  shader: SHADER,
  entryPoint: "accumulate",
  includes: INCLUDES,
  bindings: { sums: "read", normIn: "read", acc: "write" },
  params: PARAMS,
  threads: (p) => p.numSeeds * (SEAC_FIELDS + 2),
});

/** Copies the metrics accumulator out and zeroes it. */
export const seacSummarise = defineKernel({
  name: "seac.loss.summarise",
  shader: SHADER,
  entryPoint: "summarise",
  includes: INCLUDES,
  bindings: { acc: "write", metricsOut: "write" },
  params: PARAMS,
  threads: (p) => p.numSeeds * (SEAC_FIELDS + 2),
});

/** Which data each learner trains on. */
export type SeacSharing = "seac" | "iac" | "snac";
/** Targets of foreign data: agent k's own n-step return (code) or the learner's bootstrap (paper). */
export type ForeignTarget = "collectorReturn" | "learnerBootstrap";

/** Options of {@linkcode createSeacLearner}. */
export interface SeacLearnerOptions {
  /** One parameter block per learner: actor at offset 0, critic at `actor` parameter count. */
  net: Net;
  actorSpec: MlpSpec;
  criticSpec: MlpSpec;
  storage: RolloutStorage;
  sharing: SeacSharing;
  foreignTarget: ForeignTarget;
  numAgents: number;
  /** Envs per seed. */
  numEnvs: number;
  /** Seeds batched (algorithms/seeds.ts): learner l is seed l mod seeds's; default 1. */
  seeds?: number;
  nSteps: number;
  lambda: number;
  gamma: number;
  entropyCoef: number;
  valueCoef: number;
  lr: number;
  adamEps: number;
  maxGradNorm: number;
  label: string;
}

/** A bound learner. */
export interface SeacLearner {
  readonly actor: SeacMlp;
  readonly critic: SeacMlp;
  readonly adam: Adam;
  /** Rows per learner in the batch. */
  readonly rowsPerLearner: number;
  /** [numLearners, rows, obsDim] gathered observations. */
  readonly x: Tensor<"f32">;
  /** [numLearners, rows] value targets used by the loss. */
  readonly targets: Tensor<"f32">;
  /** [numLearners · SEAC_FIELDS]: Σ over rows of each loss term, per learner (after `encodeLoss`). */
  readonly sums: Tensor<"f32">;
  /** [seeds, SEAC_FIELDS + 2] metrics read by the trainer (after `encodeSummarise`). */
  readonly metricsOut: Tensor<"f32">;
  /** [seeds, SEAC_FIELDS + 2] running metrics accumulator (checkpointed). */
  readonly metricsAcc: Tensor<"f32">;
  /** Gather, forward, loss and backward: writes `net.grads` and `sums`. */
  encodeLoss(enc: Encoder): void;
  /** Adam step and metrics accumulation. */
  encodeStep(enc: Encoder): void;
  /** Moves the accumulated metrics to `metricsOut` and zeroes the accumulator. */
  encodeSummarise(enc: Encoder): void;
}

/**
 * Builds the learner's batch buffers, networks on that batch, loss, reductions and Adam.
 *
 * @param engine Engine that owns the device.
 * @param o Net, specs, rollout storage, sharing mode and hyper-parameters.
 * @returns A {@linkcode SeacLearner}.
 */
export async function createSeacLearner(
  engine: Engine,
  o: SeacLearnerOptions,
): Promise<SeacLearner> {
  const { net, storage, label } = o;
  const N = o.numAgents, E = o.numEnvs, T = o.nSteps, seeds = o.seeds ?? 1;
  const L = net.numAgents;
  const want = (o.sharing === "snac" ? 1 : N) * seeds;
  if (L !== want) {
    throw new TypeError(
      `Cannot build "${label}": ${o.sharing} needs ${want} parameter blocks, net has ${L}`,
    );
  }
  const S = o.sharing === "iac" ? 1 : N;
  const boot = o.foreignTarget === "learnerBootstrap" && o.sharing === "seac";
  const rowSteps = boot ? T + 1 : T;
  const M = S * rowSteps * E;
  const D = o.actorSpec.sizes[0];
  const K = o.actorSpec.sizes[o.actorSpec.sizes.length - 1];
  const p = {
    numLearners: L,
    numSources: S,
    numAgents: N,
    numEnvs: E,
    obsDim: D,
    numActions: K,
    nSteps: T,
    rowSteps,
    ownOnly: o.sharing === "iac" ? 1 : 0,
    sharedNet: o.sharing === "snac" ? 1 : 0,
    targetMode: boot ? 1 : 0,
    numSeeds: seeds,
    lambda: o.lambda,
    gamma: o.gamma,
    entropyCoef: o.entropyCoef,
    valueCoef: o.valueCoef,
  };
  const t = (dtype: "f32" | "u32", shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `${label}.${name}` });
  const x = t("f32", [L, M, D], "x") as Tensor<"f32">;
  const actRow = t("u32", [L, M], "actRow");
  const behRow = t("f32", [L, M], "behRow");
  const targets = t("f32", [L, M], "targets") as Tensor<"f32">;
  const terms = t("f32", [L * SEAC_FIELDS, M], "terms");
  const metricsAcc = t("f32", [seeds, SEAC_FIELDS + 2], "metricsAcc") as Tensor<"f32">;
  const metricsOut = t("f32", [seeds, SEAC_FIELDS + 2], "metricsOut") as Tensor<"f32">;
  const actor = await createSeacMlp(engine, {
    net,
    offset: 0,
    spec: o.actorSpec,
    x,
    batch: M,
    label: `${label}.actor`,
  });
  const critic = await createSeacMlp(engine, {
    net,
    offset: actor.paramCount,
    spec: o.criticSpec,
    x,
    batch: M,
    label: `${label}.critic`,
  });
  const sumsOp = await createAgentMean(engine, {
    values: terms,
    numAgents: L * SEAC_FIELDS,
    count: M,
    scale: M,
    label: `${label}.sums`,
  });
  const adam = await createAdam(engine, {
    net,
    lr: o.lr,
    eps: o.adamEps,
    maxNorm: o.maxGradNorm,
    trackNorm: true,
    label,
    variant: "fastest",
  });
  const [kg, kb, kl, ka, ks] = await Promise.all([
    compileKernel(engine, seacGather),
    compileKernel(engine, seacBootTargets),
    compileKernel(engine, seacLoss),
    compileKernel(engine, seacAccumulate),
    compileKernel(engine, seacSummarise),
  ]);
  const gather = kg.bind(
    {
      obsIn: storage.obs,
      actIn: storage.actions,
      logpIn: storage.logp,
      returnsIn: storage.returns,
      x,
      actRow,
      behRow,
      targets,
    },
    p,
    `${label}.gather`,
  );
  const bootTargets = boot
    ? kb.bind(
      {
        valueIn: critic.y,
        rewardIn: storage.rewards,
        maskIn: storage.masks,
        badIn: storage.badMasks,
        targets,
      },
      p,
      `${label}.bootTargets`,
    )
    : null;
  const loss = kl.bind(
    {
      logits: actor.y,
      value: critic.y,
      actRowIn: actRow,
      behRowIn: behRow,
      targetsIn: targets,
      dLogits: actor.dy,
      dValue: critic.dy,
      terms,
    },
    p,
    `${label}.loss`,
  );
  const accumulate = ka.bind(
    { sums: sumsOp.out, normIn: adam.norm, acc: metricsAcc },
    p,
    `${label}.accumulate`,
  );
  const summarise = ks.bind({ acc: metricsAcc, metricsOut }, p, `${label}.summarise`);
  return {
    actor,
    critic,
    adam,
    rowsPerLearner: M,
    x,
    targets,
    sums: sumsOp.out,
    metricsOut,
    metricsAcc,
    encodeLoss(enc) {
      gather.encode(enc);
      actor.forward(enc);
      critic.forward(enc);
      bootTargets?.encode(enc);
      loss.encode(enc);
      sumsOp.forward(enc);
      actor.backward(enc);
      critic.backward(enc);
    },
    encodeStep(enc) {
      adam.step(enc);
      accumulate.encode(enc);
    },
    encodeSummarise: (enc) => summarise.encode(enc),
  };
}
