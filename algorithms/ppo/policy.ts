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
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { initNetParams, type ParamTensor } from "../../engine/init.ts";
import { createGru, createGruStep, type Gru, gruParamCount } from "../../engine/nn/gru.ts";
import { createMlp, type Mlp, mlpInit, mlpParamCount, type MlpSpec } from "../../engine/nn/mlp.ts";
import type { Net } from "../../engine/nn/net.ts";
import type { Tensor } from "../../engine/tensor.ts";

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
  /** Hidden state read by the step [numAgents, numEnvs, hidden] ("gru" only). */
  readonly h: Tensor<"f32"> | null;
  /** Hidden state after the step ("gru" only); the caller commits it into `h`. */
  readonly hNext: Tensor<"f32"> | null;
  forward(enc: Encoder): void;
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

/** A network bound for learning on sequences (time-major rows r = t·batch + b). */
export interface TrunkLearner {
  /** Output [numAgents, steps·batch, outDim]. */
  readonly out: Tensor<"f32">;
  /** dL/dout, written by a loss before `backward`. */
  readonly dOut: Tensor<"f32">;
  readonly gru: Gru | null;
  readonly head: Mlp;
  forward(enc: Encoder): void;
  /** Writes every parameter's gradient into `net.grads` (overwrites). */
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
