/**
 * The actor-critic networks of independent PPO (docs/algorithms/dials.md §6, `recurrent_policies PPO/policy.py`),
 * one parameter block per agent: an MLP trunk obs → 256 ReLU → 128 ReLU (traffic) or a GRU trunk
 * obs → GRU 256 → 128 ReLU (warehouse), shared by a head Linear(128 → K + 1) whose first K outputs
 * are the actor's logits and whose last output is the critic's value (two heads on one trunk are
 * one wider linear layer). Builders bind the same {@linkcode Net} for acting (one step per env)
 * and for learning (minibatches of sequences).
 *
 * Also used for the AIPs (docs/algorithms/dials.md §4): the same trunk kinds with other sizes and no value output.
 *
 * {@linkcode createSharedActor} binds one parameter block as the policy of every agent, the GS
 * baseline's shared policy object of the reference (docs/algorithms/dials.md §8.6); with a GRU it chains the
 * hidden state through the agents (kernels in `shaders/algorithms/ppo/policy.wgsl`).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { initNetParams, type ParamTensor } from "../../engine/init.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import { createGru, createGruStep, type Gru, gruParamCount } from "../../engine/nn/gru.ts";
import { createMlp, type Mlp, mlpInit, mlpParamCount, type MlpSpec } from "../../engine/nn/mlp.ts";
import type { Net } from "../../engine/nn/net.ts";
import { assertShape, type Tensor } from "../../engine/tensor.ts";

/** Shape of a recurrent or feed-forward network with an MLP head. */
export interface TrunkSpec {
  /** "gru": GRU(inDim → hidden) then the head; "mlp": the head straight on the input. */
  readonly kind: "gru" | "mlp";
  readonly inDim: number;
  /** GRU width (kind "gru"; ignored for "mlp"). */
  readonly hidden: number;
  /** Head layer sizes after the trunk, the last one the output width. */
  readonly head: readonly number[];
}

/** Layout of a {@linkcode TrunkSpec} inside an agent's parameter block. */
export interface TrunkLayout {
  /** Parameters per agent. */
  readonly stride: number;
  /** Offset of the head MLP (0 for "mlp"; after the GRU for "gru"). */
  readonly headOffset: number;
  /** The head MLP (ReLU between layers, identity output). */
  readonly headSpec: MlpSpec;
  /** Output width. */
  readonly outDim: number;
}

/** The actor-critic spec of docs/algorithms/dials.md §6: GRU 256 → 128 or MLP 256 → 128, then K logits + value. */
export function ppoPolicySpec(
  kind: "gru" | "mlp",
  obsDim: number,
  numActions: number,
  sizes: { hidden: number; hidden2: number } = { hidden: 256, hidden2: 128 },
): TrunkSpec {
  return kind === "gru"
    ? { kind, inDim: obsDim, hidden: sizes.hidden, head: [sizes.hidden2, numActions + 1] }
    : { kind, inDim: obsDim, hidden: 0, head: [sizes.hidden, sizes.hidden2, numActions + 1] };
}

/** Offsets and sizes of `spec` inside an agent's parameter block. */
export function trunkLayout(spec: TrunkSpec): TrunkLayout {
  const gru = spec.kind === "gru" ? gruParamCount(spec.inDim, spec.hidden) : 0;
  const first = spec.kind === "gru" ? spec.hidden : spec.inDim;
  const headSpec: MlpSpec = {
    sizes: [first, ...spec.head],
    hidden: "relu",
    output: "identity",
  };
  return {
    stride: gru + mlpParamCount(headSpec),
    headOffset: gru,
    headSpec,
    outDim: spec.head[spec.head.length - 1],
  };
}

/**
 * PyTorch-default initial parameters for `numAgents` blocks (nn.GRU: every tensor
 * U(±1/√hidden); nn.Linear: U(±1/√fanIn)), agent a drawn from stream (seed, init, a, tensor).
 */
export function trunkInitParams(numAgents: number, spec: TrunkSpec, seed: number): Float32Array {
  const layout = trunkLayout(spec);
  const tensors: ParamTensor[] = [];
  if (spec.kind === "gru") {
    const H = spec.hidden, D = spec.inDim, init = { kind: "torchDefault", fanIn: H } as const;
    tensors.push(
      { offset: 0, shape: [3 * H, D], init },
      { offset: 3 * H * D, shape: [3 * H, H], init },
      { offset: 3 * H * (D + H), shape: [3 * H], init },
      { offset: 3 * H * (D + H + 1), shape: [3 * H], init },
    );
  }
  tensors.push(...mlpInit(layout.headSpec, layout.headOffset));
  return initNetParams({ numAgents, stride: layout.stride, seed, tensors });
}

/** A network bound for acting: one step per (agent, env) row. */
export interface TrunkActor {
  /** Output [numAgents, numEnvs, outDim], written by `forward`. */
  readonly out: Tensor<"f32">;
  /**
   * Committed hidden state [numAgents, numEnvs, hidden] ("gru" only): the caller writes `hNext`
   * into it after an env step (zeroed where the episode ended); the next step continues from it.
   */
  readonly h: Tensor<"f32"> | null;
  /** Hidden state after the step ("gru" only); the caller commits it into `h`. */
  readonly hNext: Tensor<"f32"> | null;
  /**
   * The state each row's step read [numAgents, numEnvs, hidden] (what a learner replays from),
   * written by `forward` when it differs from `h` (the chained shared GRU); absent: `h`.
   */
  readonly hIn?: Tensor<"f32">;
  forward(enc: Encoder): void;
  /** Records the start of fresh episodes after an env reset (GRU state zeroed); absent: clear `h`. */
  encodeReset?(enc: Encoder): void;
  /** State to checkpoint besides `h`, by stable name (the chained GRU's `started` flags). */
  readonly state?: Readonly<Record<string, Tensor>>;
}

/**
 * Binds `net` for acting on `x [numAgents, numEnvs, inDim]`.
 *
 * @param engine Engine that owns the device.
 * @param o Network, spec, input, rows per agent and label.
 * @returns A {@linkcode TrunkActor}; for "gru" it owns a zero hidden state `h`.
 */
export async function createTrunkActor(
  engine: Engine,
  o: { net: Net; spec: TrunkSpec; x: Tensor; numEnvs: number; label: string },
): Promise<TrunkActor> {
  const layout = trunkLayout(o.spec);
  const A = o.net.numAgents, E = o.numEnvs;
  let headIn = o.x, step: Awaited<ReturnType<typeof createGruStep>> | null = null, h = null;
  if (o.spec.kind === "gru") {
    h = engine.tensor({ dtype: "f32", shape: [A, E, o.spec.hidden], label: `${o.label}.h` });
    step = await createGruStep(engine, {
      net: o.net,
      offset: 0,
      x: o.x,
      h,
      batch: E,
      inDim: o.spec.inDim,
      hidden: o.spec.hidden,
      label: `${o.label}.gru`,
    });
    headIn = step.hNext;
  }
  const head = await createMlp(engine, {
    net: o.net,
    offset: layout.headOffset,
    spec: layout.headSpec,
    x: headIn,
    batch: E,
    label: `${o.label}.head`,
  });
  return {
    out: head.y,
    h,
    hNext: step?.hNext ?? null,
    forward(enc) {
      step?.forward(enc);
      head.forward(enc);
    },
  };
}

const CHAIN_SHADER = "algorithms/ppo/policy.wgsl";
const CHAIN_PARAMS = { numAgents: "u32", numEnvs: "u32", hidden: "u32" } as const;

/**
 * Chained shared GRU, before the GRU runs over the agents: the chain's carry (the committed state
 * of the last agent), the episode-start mask [N, E] and the `started` flags [E].
 */
export const ppoChainPrep = defineKernel({
  name: "ppo.chain.prep",
  shader: CHAIN_SHADER,
  entryPoint: "chainPrep",
  includes: ["common/_index.wgsl"],
  bindings: {
    terminated: "read",
    truncated: "read",
    commit: "read",
    carry: "write",
    mask: "write",
    started: "write",
  },
  params: CHAIN_PARAMS,
  threads: (p) => p.numEnvs * p.hidden,
});

/** Chained shared GRU, after the GRU: the state each agent's step read, hIn [N, E, H]. */
export const ppoChainState = defineKernel({
  name: "ppo.chain.state",
  shader: CHAIN_SHADER,
  entryPoint: "chainState",
  includes: ["common/_index.wgsl"],
  bindings: { carryIn: "read", hs: "read", maskIn: "read", hIn: "write" },
  params: CHAIN_PARAMS,
  threads: (p) => p.numAgents * p.numEnvs * p.hidden,
});

/** Options of {@linkcode createSharedActor}. */
export interface SharedActorOptions {
  /** One parameter block (`numAgents` 1), the policy of every agent. */
  net: Net;
  spec: TrunkSpec;
  /** Observations [numAgents, numEnvs, inDim]. */
  x: Tensor;
  numAgents: number;
  numEnvs: number;
  /** The env's episode-end flags [numEnvs] (u32): a GRU chain restarts from zero after them. */
  terminated: Tensor;
  truncated: Tensor;
  label: string;
}

/**
 * Binds a one-block `net` as the policy of every agent of `x [numAgents, numEnvs, inDim]`: the
 * GS baseline's shared policy object of the reference (docs/algorithms/dials.md §8.6,
 * `trainer.py train_multi_agent` with one `policy` passed to every `Agent`).
 *
 * MLP: all numAgents · numEnvs rows in one batch. GRU: the reference's policy keeps one hidden
 * state (`hidden_memory`, one worker) and `choose_action` advances it for agent 0, 1, …, N − 1 in
 * turn, so per env lane the state is chained through the agents: agent i's step reads agent
 * i − 1's new state (agent 0: agent N − 1's of the previous step), and at the first step of an
 * episode every agent reads zero (each agent's `reset_hidden_memory(done)` zeroes the shared state
 * before it acts). Here the GRU runs over the N agents as a sequence of N steps per env step.
 * `h` is the committed state [N, E, H] (its row N − 1 carries the chain to the next step), `hIn`
 * the state each agent's step read, which the rollout stores for the learner's replay.
 *
 * @param engine Engine that owns the device.
 * @param o Network, spec, observations, sizes, episode-end flags and label.
 * @returns A {@linkcode TrunkActor} whose `out` is [numAgents, numEnvs, outDim].
 */
export async function createSharedActor(
  engine: Engine,
  o: SharedActorOptions,
): Promise<TrunkActor> {
  const N = o.numAgents, E = o.numEnvs, D = o.spec.inDim;
  if (o.net.numAgents !== 1) {
    throw new TypeError(
      `Cannot build "${o.label}": a shared policy needs a net with 1 parameter block, got ${o.net.numAgents}`,
    );
  }
  assertShape(o.x, [N, E, D], { op: o.label, name: "x", dtype: "f32" });
  const layout = trunkLayout(o.spec);
  if (o.spec.kind === "mlp") {
    const actor = await createTrunkActor(engine, {
      net: o.net,
      spec: o.spec,
      x: o.x.reshape([1, N * E, D]),
      numEnvs: N * E,
      label: o.label,
    });
    return { ...actor, out: actor.out.reshape([N, E, layout.outDim]) };
  }
  const H = o.spec.hidden;
  assertShape(o.terminated, [E], { op: o.label, name: "terminated", dtype: "u32" });
  assertShape(o.truncated, [E], { op: o.label, name: "truncated", dtype: "u32" });
  const f32 = (shape: number[], name: string) =>
    engine.tensor({ dtype: "f32", shape, label: `${o.label}.${name}` });
  const commit = f32([N, E, H], "h");
  const hIn = f32([N, E, H], "hIn");
  const carry = f32([1, E, H], "carry");
  const mask = engine.tensor({ dtype: "u32", shape: [1, N, E], label: `${o.label}.mask` });
  const started = engine.tensor({ dtype: "u32", shape: [E], label: `${o.label}.started` });
  // The agents are the GRU's time axis: x [1, N, E, D] is the observations as they lie.
  const gru = await createGru(engine, {
    net: o.net,
    offset: 0,
    x: o.x.reshape([1, N, E, D]),
    h0: carry,
    resetMask: mask,
    steps: N,
    batch: E,
    inDim: D,
    hidden: H,
    label: `${o.label}.gru`,
  });
  const hNext = gru.hs.reshape([N, E, H]);
  const head = await createMlp(engine, {
    net: o.net,
    offset: layout.headOffset,
    spec: layout.headSpec,
    x: gru.hs.reshape([1, N * E, H]),
    batch: N * E,
    label: `${o.label}.head`,
  });
  const [kp, ks] = await Promise.all([
    compileKernel(engine, ppoChainPrep),
    compileKernel(engine, ppoChainState),
  ]);
  const p = { numAgents: N, numEnvs: E, hidden: H };
  const prep = kp.bind(
    { terminated: o.terminated, truncated: o.truncated, commit, carry, mask, started },
    p,
    `${o.label}.chainPrep`,
  );
  const state = ks.bind(
    { carryIn: carry, hs: gru.hs, maskIn: mask, hIn },
    p,
    `${o.label}.chainState`,
  );
  return {
    out: head.y.reshape([N, E, layout.outDim]),
    h: commit,
    hNext,
    hIn,
    state: { started },
    forward(enc) {
      prep.encode(enc);
      gru.forward(enc);
      state.encode(enc);
      head.forward(enc);
    },
    encodeReset(enc) {
      enc.clear(commit);
      enc.clear(started);
    },
  };
}

/** A network bound for learning on sequences (time-major rows r = t·batch + b). */
export interface TrunkLearner {
  /** Output [numAgents, steps·batch, outDim]. */
  readonly out: Tensor<"f32">;
  /** dL/dout, written by a loss before `backward`. */
  readonly dOut: Tensor<"f32">;
  readonly gru: Gru | null;
  readonly head: Mlp;
  forward(enc: Encoder): void;
  /** Writes every parameter's gradient into `net.grads` (overwrites, or adds with `accumulate`). */
  backward(enc: Encoder): void;
}

/**
 * Binds `net` for learning on `x [numAgents, steps, batch, inDim]` ("mlp": steps must be 1 or
 * the rows are simply steps·batch independent samples).
 *
 * @param engine Engine that owns the device.
 * @param o Network, spec, input, optional initial state `h0 [numAgents, batch, hidden]` and reset
 *   mask `[numAgents, steps, batch]` (GRU), sizes and label.
 * @returns A {@linkcode TrunkLearner}.
 */
export async function createTrunkLearner(
  engine: Engine,
  o: {
    net: Net;
    spec: TrunkSpec;
    x: Tensor;
    h0?: Tensor;
    resetMask?: Tensor;
    steps: number;
    batch: number;
    label: string;
    /** Add into `net.grads` instead of overwriting it (micro-batches). Default false. */
    accumulate?: boolean;
  },
): Promise<TrunkLearner> {
  const layout = trunkLayout(o.spec);
  let gru: Gru | null = null, headIn = o.x;
  if (o.spec.kind === "gru") {
    gru = await createGru(engine, {
      net: o.net,
      offset: 0,
      x: o.x,
      h0: o.h0,
      resetMask: o.resetMask,
      steps: o.steps,
      batch: o.batch,
      inDim: o.spec.inDim,
      hidden: o.spec.hidden,
      label: `${o.label}.gru`,
      accumulate: o.accumulate,
    });
    headIn = gru.hs;
  }
  const head = await createMlp(engine, {
    net: o.net,
    offset: layout.headOffset,
    spec: layout.headSpec,
    x: headIn,
    dx: gru?.dy,
    batch: o.steps * o.batch,
    label: `${o.label}.head`,
    accumulate: o.accumulate,
  });
  return {
    out: head.y,
    dOut: head.dy,
    gru,
    head,
    forward(enc) {
      gru?.forward(enc);
      head.forward(enc);
    },
    backward(enc) {
      head.backward(enc);
      gru?.backward(enc);
    },
  };
}
