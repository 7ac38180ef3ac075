/**
 * Approximate influence predictors (AIPs) of DIALS (docs/algorithms/dials.md §4, §5), one per agent, batched over
 * agents: a GRU(37 → 64) + Linear(64 → 4·4) with a 4-way softmax per source (warehouse) or a
 * Linear(36 → 128) ReLU → Linear(128 → 4) with 4 Bernoulli outputs (traffic), trained with softmax
 * cross-entropy / BCE on sequences of the GS datasets (inputs rescaled (x − 0.5)/0.5; last 10 % of
 * the sequences held out as the test set; each epoch a fresh permutation drawn on the GPU; full
 * minibatches only; GRU state zero per minibatch; one Adam step per minibatch; the network and
 * its optimiser persist across retrainings). `dials_sampler.ts` runs the predictor inside the
 * local simulators and samples the influence sources on the GPU. Kernels in
 * `shaders/algorithms/dials/aip.wgsl`.
 *
 * Dataset inputs are binary, so the datasets store them bit-packed (`envs/bits.ts`): a row of
 * `inDim` 0/1 values is ⌈inDim / 32⌉ u32 words, value d at bit d % 32 of word ⌊d / 32⌋. The
 * gather unpacks bit 1 → 1.0 and bit 0 → −1.0, which is (x − 0.5)/0.5 of x ∈ {0, 1} exactly.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import { type Adam, createAdam } from "../../engine/nn/adam.ts";
import { createBce, createCrossEntropy } from "../../engine/ops/cross_entropy.ts";
import type { LogitLoss } from "../../engine/ops/policy.ts";
import { createNet, type Net } from "../../engine/nn/net.ts";
import { PORTABLE_STORAGE_BINDING_BYTES } from "../../engine/limits.ts";
import { createFill } from "../../engine/ops/elementwise.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { packedWords } from "../../envs/bits.ts";
import { createTrunkLearner, trunkInitParams, trunkLayout, type TrunkSpec } from "../ppo/policy.ts";
import { interleaveBlocks } from "../seeds.ts";

const SHADER = "algorithms/dials/aip.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl", "common/_categorical.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  numEnvs: "u32",
  inDim: "u32",
  obsDim: "u32",
  skip: "u32",
  sources: "u32",
  classes: "u32",
  seqLen: "u32",
  batch: "u32",
  trainSeqs: "u32",
  seqsPerAgent: "u32",
  batchesPerEpoch: "u32",
  test: "u32",
  hidden: "u32",
  mode: "u32",
  slot: "u32",
  floatTargets: "u32",
  seed: "u32",
  purpose: "u32",
  offset: "u32",
  minibatch: "u32",
  weight: "f32",
  seeds: "u32",
} as const;
const kernel = <const B extends Record<string, "read" | "write">>(
  entryPoint: string,
  bindings: B,
  threads: (p: Record<keyof typeof PARAMS, number>) => number,
) =>
  defineKernel({
    name: `aip.${entryPoint}`,
    shader: SHADER,
    entryPoint,
    includes: INCLUDES,
    bindings,
    params: PARAMS,
    threads,
  });

/** Copies a training (permuted) or test minibatch of sequences out of the dataset. */
export const aipGather = kernel(
  "gather",
  {
    inputs: "read",
    targets: "read",
    targetsF: "read",
    stepIn: "read",
    x: "write",
    labels: "write",
    soft: "write",
  },
  (p) => p.numAgents * p.seqLen * p.batch,
);
/** Rescales local observations into the predictor's input. */
export const aipRescale = kernel(
  "rescale",
  { obs: "read", xAct: "write" },
  (p) => p.numAgents * p.numEnvs * p.inDim,
);
/** Samples influence sources from the predictor's outputs. */
export const aipSample = kernel(
  "sample",
  { logits: "read", counterIn: "read", influence: "write" },
  (p) => p.numAgents * p.numEnvs * p.sources,
);
/** Commits the predictor's recurrent state after a local step (zero at episode ends). */
export const aipCommit = kernel(
  "commit",
  { hNext: "read", terminated: "read", truncated: "read", h: "write", counter: "write" },
  (p) => p.numAgents * p.numEnvs * Math.max(p.hidden, 1),
);
/** Keeps the per-agent test loss in slot `slot` (mode 1: adds it, times `weight`). */
export const aipKeep = kernel("keep", { lossIn: "read", kept: "write" }, (p) => p.numAgents);
/** Advances the minibatch counter (mode 0) or starts a training round (mode 1). */
export const aipAdvance = kernel("advance", { step: "write" }, () => 1);

/** The predictor's kind and sizes. */
export interface AipSpec {
  /** "softmax": GRU, `classes`-way softmax per source; "bce": MLP, one Bernoulli per source. */
  readonly loss: "softmax" | "bce";
  readonly inDim: number;
  readonly sources: number;
  /** Classes per source ("softmax"; 2 for "bce", unused). */
  readonly classes: number;
  /** GRU width ("softmax") or hidden layer width ("bce"). */
  readonly hidden: number;
  /** Sequence length of a dataset sample (episode length for the GRU, 1 for the MLP). */
  readonly seqLen: number;
}

/** The network of an {@linkcode AipSpec}. */
export function aipTrunk(spec: AipSpec): TrunkSpec {
  return spec.loss === "softmax"
    ? { kind: "gru", inDim: spec.inDim, hidden: spec.hidden, head: [spec.sources * spec.classes] }
    : { kind: "mlp", inDim: spec.inDim, hidden: 0, head: [spec.hidden, spec.sources] };
}

/** Options of {@linkcode createAip}. */
export interface AipOptions {
  spec: AipSpec;
  numAgents: number;
  /**
   * Dataset inputs [numAgents, rows, ⌈inDim / 32⌉] u32: each row's 0/1 values bit-packed as in
   * `envs/bits.ts` (value d at bit d % 32 of word ⌊d / 32⌋).
   */
  inputs: Tensor<"u32">;
  /** Dataset targets [numAgents, rows, sources]: u32 class indices or 0/1, or f32 0/1. */
  targets: Tensor;
  /** Rows per agent (a multiple of seqLen). */
  rows: number;
  epochs: number;
  /** Minibatch size [sequences]. */
  batch: number;
  lr: number;
  /** Fraction of the sequences held out (the last ones), rounded down, at least 1. */
  testFraction: number;
  seed: number;
  label: string;
  /** Largest storage binding a test chunk may need. Default `PORTABLE_STORAGE_BINDING_BYTES`. */
  maxBindingBytes?: number;
  /**
   * Seeds batched (docs/statistics.md §8; default 1): `numAgents` predictors per seed, one
   * parameter block per (agent a, seed k) in seed-minor order (block a·seeds + k, initialised
   * from seed `seed + k`); the dataset holds `rows` rows per block ([numAgents, seeds · rows, …]
   * is [numAgents · seeds, rows, …]); permutations are keyed by seed + k and agent a.
   */
  seeds?: number;
}

/** A bound predictor with its training and test passes. */
export interface Aip {
  readonly spec: AipSpec;
  readonly trunk: TrunkSpec;
  readonly net: Net;
  readonly adam: Adam;
  /** Sizes derived from the dataset. */
  readonly plan: {
    sequences: number;
    trainSeqs: number;
    testSeqs: number;
    /** Passes the test loss is computed in (see {@linkcode aipTestChunks}). */
    testChunks: number;
    batch: number;
    /** Micro-batches per minibatch (see {@linkcode aipMicroBatches}). */
    microBatches: number;
    batchesPerEpoch: number;
  };
  /**
   * [2, numAgents · seeds] f32 test losses per parameter block: slot 0 before, slot 1 after the
   * last training round.
   */
  readonly testLoss: Tensor<"f32">;
  /** [2] u32 (minibatch in round, rounds). */
  readonly step: Tensor<"u32">;
  /** Records one training round: epochs × full minibatches, one Adam step each. */
  encodeTrain(enc: Encoder): void;
  /** Records the test loss of the current predictor into `testLoss` slot `slot`. */
  encodeTest(enc: Encoder, slot: 0 | 1): void;
  /** Mean training loss of the last minibatch [numAgents] (forward of the training pass). */
  readonly trainLoss: Tensor<"f32">;
}

async function buildLoss(
  engine: Engine,
  spec: AipSpec,
  o: {
    out: Tensor<"f32">;
    dOut?: Tensor<"f32">;
    labels: Tensor;
    soft: Tensor;
    numAgents: number;
    rows: number;
    label: string;
    /** Multiplies the loss and its gradient (1/m for one of m micro-batches). Default 1. */
    scale?: number;
  },
): Promise<LogitLoss> {
  const N = o.numAgents;
  if (spec.loss === "softmax") {
    const rows = o.rows * spec.sources;
    return await createCrossEntropy(engine, {
      logits: o.out.reshape([N, rows, spec.classes]),
      labels: o.labels,
      dLogits: o.dOut?.reshape([N, rows, spec.classes]),
      numAgents: N,
      batch: rows,
      numActions: spec.classes,
      label: o.label,
      scale: o.scale,
    });
  }
  return await createBce(engine, {
    logits: o.out,
    targets: o.soft,
    dLogits: o.dOut,
    numAgents: N,
    batch: o.rows,
    numActions: spec.sources,
    label: o.label,
    scale: o.scale,
  });
}

/** One chunk of the test pass: `seqs` test sequences from test sequence `offset`. */
export interface AipTestChunk {
  readonly offset: number;
  readonly seqs: number;
}

/**
 * Splits the test pass into chunks whose widest buffer fits a portable storage binding
 * (`PORTABLE_STORAGE_BINDING_BYTES`, 128 MiB, on every adapter, so results do not depend on it).
 * The widest per-row buffer is the input, the GRU's work buffer (4·hidden), a head layer or the
 * logits.
 *
 * @param spec The predictor.
 * @param numAgents Agents (predictors batched in each pass).
 * @param testSeqs Test sequences.
 * @param maxBindingBytes Largest binding a chunk may need (tests lower it to force chunks).
 * @returns Chunks in order, covering every test sequence once; one chunk when it all fits.
 */
export function aipTestChunks(
  spec: AipSpec,
  numAgents: number,
  testSeqs: number,
  maxBindingBytes: number = PORTABLE_STORAGE_BINDING_BYTES,
): AipTestChunk[] {
  const per = Math.min(testSeqs, aipSeqsPerBinding(spec, numAgents, maxBindingBytes));
  const out: AipTestChunk[] = [];
  for (let offset = 0; offset < testSeqs; offset += per) {
    out.push({ offset, seqs: Math.min(per, testSeqs - offset) });
  }
  return out;
}

/** Sequences of one pass whose widest buffer fits `maxBindingBytes` (at least 1). */
function aipSeqsPerBinding(spec: AipSpec, numAgents: number, maxBindingBytes: number): number {
  const trunk = aipTrunk(spec);
  const widest = Math.max(
    spec.inDim,
    trunk.kind === "gru" ? 4 * trunk.hidden : 0, // the GRU's work buffer: gates and gradients
    ...trunk.head,
    spec.sources * spec.classes,
  );
  const bytesPerSeq = 4 * numAgents * spec.seqLen * widest;
  return Math.max(1, Math.floor(maxBindingBytes / bytesPerSeq));
}

/**
 * Micro-batches per training minibatch of `batch` sequences: the fewest that divide the
 * minibatch into equal parts whose widest buffer fits `maxBindingBytes`. Their gradients add up
 * (each micro-batch's mean loss weighted 1/m) before the one Adam step, so the step is the
 * minibatch's up to rounding; 1 (the plain pass) for every preset but the 100-agent warehouse.
 */
export function aipMicroBatches(
  spec: AipSpec,
  numAgents: number,
  batch: number,
  maxBindingBytes: number = PORTABLE_STORAGE_BINDING_BYTES,
): number {
  const fit = aipSeqsPerBinding(spec, numAgents, maxBindingBytes);
  let m = Math.ceil(batch / fit);
  while (batch % m !== 0) m++;
  return m;
}

/**
 * Builds the predictors of every agent on a dataset: network (PyTorch-default init), Adam,
 * minibatch and test buffers, kernels and bind groups, once.
 *
 * @param engine Engine that owns the device.
 * @param o Spec, dataset tensors and training settings.
 * @returns An {@linkcode Aip}.
 */
export async function createAip(engine: Engine, o: AipOptions): Promise<Aip> {
  const seeds = o.seeds ?? 1, NA = o.numAgents, N = NA * seeds;
  const { spec } = o, L = spec.seqLen;
  if (!(Number.isInteger(o.rows / L) && o.rows >= 2 * L)) {
    throw new RangeError(
      `Cannot build "${o.label}": ${o.rows} rows are not at least 2 whole sequences of ${L}`,
    );
  }
  const W = packedWords(spec.inDim), want = [NA, seeds * o.rows, W];
  if (o.inputs.dtype !== "u32" || o.inputs.shape.join() !== want.join()) {
    throw new TypeError(
      `Cannot build "${o.label}": inputs are ${o.inputs.dtype} [${
        o.inputs.shape.join(", ")
      }], need bit-packed u32 [${want.join(", ")}]`,
    );
  }
  const Q = o.rows / L;
  // As the reference's int(0.1 · len): rounded down, but at least one test sequence.
  const testSeqs = Math.max(1, Math.floor(Q * o.testFraction));
  const trainSeqs = Q - testSeqs;
  const B = Math.min(o.batch, trainSeqs);
  const batchesPerEpoch = Math.floor(trainSeqs / B);
  const trunk = aipTrunk(spec), stride = trunkLayout(trunk).stride;
  const init = (k: number) => trunkInitParams(NA, trunk, o.seed + k);
  const net = createNet(engine, {
    numAgents: N,
    stride,
    label: `${o.label}.net`,
    init: seeds === 1
      ? init(0)
      : interleaveBlocks(Array.from({ length: seeds }, (_, k) => init(k)), stride),
  });
  const f32 = (shape: number[], name: string) =>
    engine.tensor({ dtype: "f32", shape, label: `${o.label}.${name}` });
  const u32 = (shape: number[], name: string) =>
    engine.tensor({ dtype: "u32", shape, label: `${o.label}.${name}` });
  const D = spec.inDim, S = spec.sources;
  const mk = (B_: number, name: string) => ({
    x: f32([N, L, B_, D], `${name}.x`),
    labels: u32([N, L * B_ * S], `${name}.labels`),
    soft: f32([N, L * B_, S], `${name}.soft`),
  });
  // A minibatch whose workspace would not fit a portable binding is m equal micro-batches of
  // b sequences with their gradients added (m = 1: the plain pass).
  // The passes split as one seed's do (NA agents; the splits change the rounding), so a batch of
  // seeds is S times wider per pass: it must fit the device's bindings.
  const m = aipMicroBatches(spec, NA, B, o.maxBindingBytes), b = B / m;
  const chunks = aipTestChunks(spec, NA, testSeqs, o.maxBindingBytes);
  if (seeds > 1) {
    const widest = Math.max(b, ...chunks.map((c) => c.seqs));
    const max = engine.limit("maxStorageBufferBindingSize");
    if (aipSeqsPerBinding(spec, N, max) < widest) {
      throw new RangeError(
        `Cannot build "${o.label}": seed batching needs AIP passes of ${widest} sequences of ${N} predictors in one storage binding; the device allows ${max} bytes`,
      );
    }
  }
  const train = mk(b, "train");
  const step = u32([2], "step");
  const testLoss = f32([2, N], "testLoss");
  const learner = await createTrunkLearner(engine, {
    net,
    spec: trunk,
    x: trunk.kind === "gru" ? train.x : train.x.reshape([N, L * b, D]),
    steps: trunk.kind === "gru" ? L : 1,
    batch: trunk.kind === "gru" ? b : L * b,
    label: `${o.label}.train`,
    accumulate: m > 1,
  });
  // The test pass runs in chunks of sequences small enough for a portable storage binding; one
  // chunk (every preset but the 100-agent ones) is the plain pass. Shapes per chunk size.
  const testers = new Map<number, Awaited<ReturnType<typeof buildTester>>>();
  const buildTester = async (C: number) => {
    const bufs = mk(C, `test${C === testSeqs ? "" : `.${C}`}`);
    const tester = await createTrunkLearner(engine, {
      net,
      spec: trunk,
      x: trunk.kind === "gru" ? bufs.x : bufs.x.reshape([N, L * C, D]),
      steps: trunk.kind === "gru" ? L : 1,
      batch: trunk.kind === "gru" ? C : L * C,
      label: `${o.label}.test${C === testSeqs ? "" : `.${C}`}`,
    });
    const ce = await buildLoss(engine, spec, {
      out: tester.out,
      labels: bufs.labels,
      soft: bufs.soft,
      numAgents: N,
      rows: L * C,
      label: `${o.label}.test${C === testSeqs ? "" : `.${C}`}.loss`,
    });
    return { bufs, tester, ce };
  };
  for (const c of chunks) if (!testers.has(c.seqs)) testers.set(c.seqs, await buildTester(c.seqs));
  const trainCe = await buildLoss(engine, spec, {
    out: learner.out,
    dOut: learner.dOut,
    labels: train.labels,
    soft: train.soft,
    numAgents: N,
    rows: L * b,
    label: `${o.label}.train.loss`,
    scale: m > 1 ? 1 / m : undefined,
  });
  const adam = await createAdam(engine, { net, lr: o.lr, label: o.label });
  const base = {
    numAgents: N,
    numEnvs: 1,
    inDim: D,
    obsDim: D,
    skip: 0,
    sources: S,
    classes: spec.classes,
    seqLen: L,
    batch: B,
    trainSeqs,
    seqsPerAgent: Q,
    batchesPerEpoch,
    test: 0,
    hidden: 0,
    mode: 0,
    slot: 0,
    floatTargets: o.targets.dtype === "f32" ? 1 : 0,
    seed: o.seed >>> 0,
    purpose: RNG_PURPOSE.shuffle,
    offset: 0,
    minibatch: B,
    weight: 1,
    seeds,
  };
  const [kg, kk, ka] = await Promise.all([
    compileKernel(engine, aipGather),
    compileKernel(engine, aipKeep),
    compileKernel(engine, aipAdvance),
  ]);
  const f = o.targets.dtype === "f32";
  const none = (dtype: "f32" | "u32") =>
    engine.tensor({ dtype, shape: [1], label: `${o.label}.none` });
  const data = {
    inputs: o.inputs,
    targets: f ? none("u32") : o.targets,
    targetsF: f ? o.targets : none("f32"),
    stepIn: step,
  };
  const gTrain = Array.from({ length: m }, (_, k) =>
    kg.bind(
      { ...data, ...train },
      { ...base, batch: b, offset: k * b },
      `${o.label}.gather.train${m > 1 ? `.${k}` : ""}`,
    ));
  // With micro-batches: grads zeroed per minibatch, and the minibatch's mean loss is the sum of
  // the micro-batches' means (each scaled by 1/m).
  const micro = m === 1 ? null : {
    zero: await createFill(engine, net.grads, 0),
    loss: f32([1, N], "trainLoss"),
    keeps: [] as { encode(enc: Encoder): void }[],
  };
  if (micro) {
    for (let k = 0; k < m; k++) {
      micro.keeps.push(kk.bind(
        { lossIn: trainCe.mean, kept: micro.loss },
        { ...base, slot: 0, mode: k === 0 ? 0 : 1, weight: 1 },
        `${o.label}.keep.train.${k}`,
      ));
    }
  }
  const testPasses = chunks.map((c, k) => {
    const { bufs, tester, ce } = testers.get(c.seqs)!;
    const gather = kg.bind(
      { ...data, ...bufs },
      { ...base, batch: c.seqs, test: 1, offset: c.offset },
      `${o.label}.gather.test.${k}`,
    );
    const weight = chunks.length === 1 ? 1 : c.seqs / testSeqs;
    const keeps = [0, 1].map((slot) =>
      kk.bind(
        { lossIn: ce.mean, kept: testLoss },
        { ...base, slot, mode: k === 0 ? 0 : 1, weight },
        `${o.label}.keep.${slot}.${k}`,
      )
    );
    return { gather, tester, ce, keeps };
  });
  const next = ka.bind({ step }, base, `${o.label}.advance`);
  const round = ka.bind({ step }, { ...base, mode: 1 }, `${o.label}.round`);
  return {
    spec,
    trunk,
    net,
    adam,
    plan: {
      sequences: Q,
      trainSeqs,
      testSeqs,
      testChunks: chunks.length,
      batch: B,
      microBatches: m,
      batchesPerEpoch,
    },
    testLoss,
    step,
    trainLoss: micro ? micro.loss.reshape([N]) : trainCe.mean,
    encodeTrain(enc) {
      round.encode(enc);
      for (let i = 0; i < o.epochs * batchesPerEpoch; i++) {
        micro?.zero.encode(enc);
        for (let k = 0; k < m; k++) {
          gTrain[k].encode(enc);
          learner.forward(enc);
          trainCe.forward(enc);
          micro?.keeps[k].encode(enc);
          trainCe.backward(enc);
          learner.backward(enc);
        }
        adam.step(enc);
        next.encode(enc);
      }
    },
    encodeTest(enc, slot) {
      for (const pass of testPasses) {
        pass.gather.encode(enc);
        pass.tester.forward(enc);
        pass.ce.forward(enc);
        pass.keeps[slot].encode(enc);
      }
    },
  };
}
