/**
 * The AIPs running inside the local simulators (docs/algorithms/dials.md §5): before each LS step the predictor
 * reads the rescaled local observation (GRU: advancing its state), and the influence sources are
 * drawn on the GPU (4-way categorical per neighbour, or one Bernoulli per incoming lane) into the
 * LS's influence buffer; after the step the recurrent state is committed, zeroed where an episode
 * ended. Kernels `rescale`, `sample`, `commit` of `shaders/algorithms/dials/aip.wgsl`.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel } from "../../engine/kernel.ts";
import type { Net } from "../../engine/nn/net.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { aipCommit, aipRescale, aipSample, type AipSpec, aipTrunk } from "./aip.ts";
import { createTrunkActor } from "../ppo/policy.ts";

/** Options of {@linkcode createAipSampler}. */
export interface AipSamplerOptions {
  aip: { spec: AipSpec; net: Net };
  /** Local observations [numAgents, numEnvs, obsDim] f32. */
  obs: Tensor;
  obsDim: number;
  /** Leading observation entries that are not AIP inputs. */
  skip: number;
  numEnvs: number;
  terminated: Tensor;
  truncated: Tensor;
  /** Where sampled sources go: [numAgents, numEnvs, sources] u32. */
  influence: Tensor;
  seed: number;
  label: string;
  /**
   * Seeds batched (default 1): the predictor's blocks are seed-minor (block a·seeds + k: seed k's
   * agent a), `numEnvs` is per seed, the LS buffers hold seeds · numEnvs envs per agent
   * (seed-major), and seed k's draws are keyed by `seed + k` and agent a, as a lone run's.
   */
  seeds?: number;
}

/** The predictor running inside the local simulators. */
export interface AipSampler {
  /** [1] u32 draw counter. */
  readonly counter: Tensor<"u32">;
  /** GRU state [numAgents, numEnvs, hidden] (null for the MLP). */
  readonly h: Tensor<"f32"> | null;
  /** Records rescale, predictor forward and sampling into `influence` (before the LS step). */
  encodeSample(enc: Encoder): void;
  /** Records the state commit (after the LS step). */
  encodeCommit(enc: Encoder): void;
  /** Records zeroing of the recurrent state (after an LS reset). */
  encodeReset(enc: Encoder): void;
}

/**
 * Binds a predictor's network for sampling influence sources in the local simulators.
 *
 * @param engine Engine that owns the device.
 * @param o Predictor, LS buffers, RNG seed and label.
 * @returns An {@linkcode AipSampler}.
 */
export async function createAipSampler(engine: Engine, o: AipSamplerOptions): Promise<AipSampler> {
  const { spec, net } = o.aip, N = net.numAgents, E = o.numEnvs;
  const xAct = engine.tensor({
    dtype: "f32",
    shape: [N, E, spec.inDim],
    label: `${o.label}.x`,
  });
  const counter = engine.tensor({ dtype: "u32", shape: [1], label: `${o.label}.counter` });
  const actor = await createTrunkActor(engine, {
    net,
    spec: aipTrunk(spec),
    x: xAct,
    numEnvs: E,
    label: `${o.label}.net`,
  });
  const H = actor.h ? spec.hidden : 0;
  const p = {
    numAgents: N,
    numEnvs: E,
    inDim: spec.inDim,
    obsDim: o.obsDim,
    skip: o.skip,
    sources: spec.sources,
    classes: spec.classes,
    seqLen: 1,
    batch: 1,
    trainSeqs: 1,
    seqsPerAgent: 1,
    batchesPerEpoch: 1,
    test: 0,
    hidden: H,
    mode: spec.loss === "bce" ? 1 : 0,
    slot: 0,
    floatTargets: 0,
    seed: o.seed >>> 0,
    purpose: RNG_PURPOSE.influence,
    offset: 0,
    minibatch: 0,
    weight: 1,
    seeds: o.seeds ?? 1,
  };
  const [kr, ks, kc] = await Promise.all([
    compileKernel(engine, aipRescale),
    compileKernel(engine, aipSample),
    compileKernel(engine, aipCommit),
  ]);
  const rescale = kr.bind({ obs: o.obs, xAct }, p, `${o.label}.rescale`);
  const sample = ks.bind(
    { logits: actor.out, counterIn: counter, influence: o.influence },
    p,
    `${o.label}.sample`,
  );
  const none = engine.tensor({ dtype: "f32", shape: [1], label: `${o.label}.none` });
  const commit = kc.bind(
    {
      hNext: actor.hNext ?? none,
      terminated: o.terminated,
      truncated: o.truncated,
      h: actor.h ?? engine.tensor({ dtype: "f32", shape: [1], label: `${o.label}.hNone` }),
      counter,
    },
    p,
    `${o.label}.commit`,
  );
  return {
    counter,
    h: actor.h,
    encodeSample(enc) {
      rescale.encode(enc);
      actor.forward(enc);
      sample.encode(enc);
    },
    encodeCommit(enc) {
      commit.encode(enc);
    },
    encodeReset(enc) {
      if (actor.h) enc.clear(actor.h);
    },
  };
}
