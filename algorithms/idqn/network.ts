/**
 * The Q-network of the IDQN family, batched over an agent axis on one {@linkcode Net}: a CNN torso
 * (Pursuit: Conv 32-64-64 k2 → flatten channels-first → Linear 64, ReLU) or an MLP torso for
 * vector observations, an optional linear embedding without activation (RLlib's 256 outputs of
 * the custom model), then a Q head: plain (optionally with a hidden ReLU layer) or dueling
 * (value and advantage streams with a hidden ReLU layer each, Q = V + A − mean A).
 *
 * Parameters of one agent's block, in order: conv layers, dense layers, embedding, then the head
 * (plain: hidden, out; dueling: advantage hidden, advantage out, value hidden, value out).
 * Build several instances on the same Net (acting on env rows, learning on a minibatch, a stage
 * that evaluates an agent's Q on arbitrary rows); each owns its activations.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { initNetParams, linearInit, type ParamInit, type ParamTensor } from "../../engine/init.ts";
import { type Conv2d, conv2dParamCount, createConv2d } from "../../engine/nn/conv2d.ts";
import { createDueling } from "../../engine/nn/dueling.ts";
import { createAxpy } from "../../engine/ops/elementwise.ts";
import { createFlatten } from "../../engine/nn/flatten.ts";
import {
  type Activation,
  createLinear,
  type Linear,
  linearParamCount,
} from "../../engine/nn/linear.ts";
import type { Net } from "../../engine/nn/net.ts";
import type { Tensor } from "../../engine/tensor.ts";

/** Architecture of one agent's Q-network. */
export interface QNetworkSpec {
  /** Per-agent observation shape: [obsDim] (MLP torso) or [H, W, C] (NHWC, CNN torso). */
  readonly obsShape: readonly number[];
  readonly numActions: number;
  /** Conv channels (k×k, stride 1, valid, ReLU), e.g. [32, 64, 64]; empty for an MLP torso. */
  readonly conv: readonly number[];
  /** Conv kernel size. */
  readonly kernel: number;
  /** Dense ReLU layers after the conv stack (or on the raw obs), e.g. [64] or [128, 128]. */
  readonly dense: readonly number[];
  /** Width of a linear layer without activation after the torso (RLlib: 256); 0 for none. */
  readonly embed: number;
  /** Hidden ReLU width of the head (each dueling stream); 0 for none. */
  readonly headHidden: number;
  /** Dueling head (Q = V + A − mean A). */
  readonly dueling: boolean;
  /** Init of the head's weights: PyTorch default, or Xavier-uniform with zero bias (RLlib). */
  readonly headInit: "torchDefault" | "xavierZero";
}

interface LayerPlan {
  kind: "conv" | "dense";
  inDim: number;
  outDim: number;
  /** Conv input height and width. */
  h: number;
  w: number;
  activation: Activation;
  offset: number;
  head: boolean;
}

function checkSpec(spec: QNetworkSpec): void {
  const dims = [
    ...spec.obsShape,
    spec.numActions,
    ...spec.conv,
    ...spec.dense,
  ];
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(
      `Cannot plan Q-network: sizes obs [${spec.obsShape}], actions ${spec.numActions}, conv [${spec.conv}], dense [${spec.dense}] must be integers >= 1`,
    );
  }
  if (spec.conv.length > 0 && spec.obsShape.length !== 3) {
    throw new TypeError(
      `Cannot plan Q-network: a conv torso needs obs [H, W, C], got [${spec.obsShape}]`,
    );
  }
  if (!(Number.isInteger(spec.embed) && spec.embed >= 0)) {
    throw new RangeError(`Cannot plan Q-network: embed is ${spec.embed}, must be an integer >= 0`);
  }
  if (!(Number.isInteger(spec.headHidden) && spec.headHidden >= 0)) {
    throw new RangeError(
      `Cannot plan Q-network: headHidden is ${spec.headHidden}, must be an integer >= 0`,
    );
  }
  if (spec.dueling && spec.headHidden === 0) {
    throw new RangeError("Cannot plan Q-network: a dueling head needs headHidden >= 1");
  }
}

/** The layers of one agent's network, in parameter order, with their offsets. */
function planLayers(spec: QNetworkSpec): { torso: LayerPlan[]; head: LayerPlan[]; size: number } {
  checkSpec(spec);
  const torso: LayerPlan[] = [], head: LayerPlan[] = [];
  let off = 0;
  const add = (list: LayerPlan[], l: Omit<LayerPlan, "offset">) => {
    list.push({ ...l, offset: off });
    off += l.kind === "conv"
      ? conv2dParamCount(l.inDim, l.outDim, spec.kernel)
      : linearParamCount(l.inDim, l.outDim);
  };
  let features: number;
  if (spec.conv.length > 0) {
    let [h, w, c] = spec.obsShape;
    for (const cout of spec.conv) {
      if (spec.kernel > h || spec.kernel > w) {
        throw new RangeError(
          `Cannot plan Q-network: kernel ${spec.kernel} does not fit a ${h}×${w} map`,
        );
      }
      add(torso, { kind: "conv", inDim: c, outDim: cout, h, w, activation: "relu", head: false });
      h = h - spec.kernel + 1;
      w = w - spec.kernel + 1;
      c = cout;
    }
    features = h * w * c;
  } else {
    features = spec.obsShape.reduce((a, b) => a * b, 1);
  }
  const dense = (list: LayerPlan[], outDim: number, activation: Activation, isHead: boolean) => {
    add(list, { kind: "dense", inDim: features, outDim, h: 0, w: 0, activation, head: isHead });
    features = outDim;
  };
  for (const d of spec.dense) dense(torso, d, "relu", false);
  if (spec.embed > 0) dense(torso, spec.embed, "identity", false);
  const z = features;
  if (spec.dueling) {
    dense(head, spec.headHidden, "relu", true);
    dense(head, spec.numActions, "identity", true);
    features = z;
    dense(head, spec.headHidden, "relu", true);
    dense(head, 1, "identity", true);
  } else {
    if (spec.headHidden > 0) dense(head, spec.headHidden, "relu", true);
    dense(head, spec.numActions, "identity", true);
  }
  return { torso, head, size: off };
}

/** Parameters of one agent's Q-network. */
export function qNetworkParamCount(spec: QNetworkSpec): number {
  return planLayers(spec).size;
}

/**
 * The parameter tensors of one agent's block (for {@linkcode initNetParams}): PyTorch's default
 * init for the torso; the head per `spec.headInit` (docs/algorithms/idqn.md / README §2 PROPOSAL).
 */
export function qNetworkParams(spec: QNetworkSpec): ParamTensor[] {
  const { torso, head } = planLayers(spec);
  const out: ParamTensor[] = [];
  for (const l of torso) {
    if (l.kind === "conv") {
      const k = spec.kernel, fanIn = l.inDim * k * k;
      out.push(
        { offset: l.offset, shape: [l.outDim, l.inDim, k, k], init: { kind: "torchDefault" } },
        {
          offset: l.offset + l.outDim * l.inDim * k * k,
          shape: [l.outDim],
          init: { kind: "torchDefault", fanIn },
        },
      );
    } else {
      out.push(...linearInit({ offset: l.offset, inDim: l.inDim, outDim: l.outDim }));
    }
  }
  for (const l of head) {
    const xavier = spec.headInit === "xavierZero";
    const weight: ParamInit | undefined = xavier ? { kind: "xavierUniform" } : undefined;
    const bias: ParamInit | undefined = xavier ? { kind: "zeros" } : undefined;
    out.push(...linearInit({ offset: l.offset, inDim: l.inDim, outDim: l.outDim, weight, bias }));
  }
  return out;
}

/**
 * Initial parameters of `numAgents` Q-networks, [numAgents, qNetworkParamCount(spec)].
 *
 * @param spec The architecture.
 * @param options Number of agents (parameter sets) and the seed of the init streams.
 * @returns Host values to pass as `init` to `createNet`.
 */
export function qNetworkInit(
  spec: QNetworkSpec,
  options: { numAgents: number; seed: number },
): Float32Array {
  return initNetParams({
    numAgents: options.numAgents,
    stride: qNetworkParamCount(spec),
    seed: options.seed,
    tensors: qNetworkParams(spec),
  });
}

/** Options of {@linkcode createQNetwork}. */
export interface QNetworkOptions {
  /** Parameters (and gradients) of every agent's network: stride = qNetworkParamCount(spec). */
  net: Net;
  /** Input rows [net.numAgents, batch, obsDim] f32 (NHWC per row for a conv torso). */
  x: Tensor;
  batch: number;
  spec: QNetworkSpec;
  label: string;
  /** Add weight gradients into `net.grads` instead of overwriting them. Default false. */
  accumulate?: boolean;
}

/** A bound Q-network instance. */
export interface QNetwork {
  /** Q-values [net.numAgents, batch, numActions]. */
  readonly q: Tensor<"f32">;
  /** dL/dq, same shape: written by a loss before `backward`. */
  readonly dQ: Tensor<"f32">;
  readonly batch: number;
  /** Writes `q` from `x`. */
  forward(enc: Encoder): void;
  /** Reads `dQ` (and the activations of the last `forward`), writes `net.grads`. */
  backward(enc: Encoder): void;
}

/**
 * Builds one Q-network instance bound to input rows `x` and the Net's buffers (pipelines, bind
 * groups and activations once, labelled `<label>.*`).
 *
 * @param engine Engine that owns the device.
 * @param options Net, input rows, batch, architecture and label.
 * @returns A {@linkcode QNetwork} whose `forward` writes `q` and `backward` writes the gradients.
 */
export async function createQNetwork(engine: Engine, options: QNetworkOptions): Promise<QNetwork> {
  const { net, x, batch, spec, label } = options;
  const plan = planLayers(spec);
  if (net.stride !== plan.size) {
    throw new TypeError(
      `Cannot build "${label}": net "${net.label}" has stride ${net.stride}, the spec needs ${plan.size}`,
    );
  }
  const obsDim = spec.obsShape.reduce((a, b) => a * b, 1);
  if (x.size !== net.numAgents * batch * obsDim) {
    throw new TypeError(
      `Cannot build "${label}": x [${x.shape}] is not [${net.numAgents}, ${batch}, ${obsDim}]`,
    );
  }
  const A = net.numAgents, acc = options.accumulate ?? false;
  const steps: { forward(enc: Encoder): void; backward(enc: Encoder): void }[] = [];
  let input: Tensor = x, dInput: Tensor | undefined = undefined;
  let i = 0;
  let lastConv: Conv2d | null = null;
  for (const l of plan.torso.filter((t) => t.kind === "conv")) {
    const c: Conv2d = await createConv2d(engine, {
      net,
      offset: l.offset,
      x: input,
      dx: dInput,
      batch,
      h: l.h,
      w: l.w,
      cin: l.inDim,
      cout: l.outDim,
      k: spec.kernel,
      activation: l.activation,
      label: `${label}.conv${i++}`,
      accumulate: acc,
    });
    steps.push(c);
    input = c.y;
    dInput = c.dy;
    lastConv = c;
  }
  if (lastConv) {
    const f = await createFlatten(engine, {
      x: lastConv.y,
      dx: lastConv.dy,
      numAgents: A,
      batch,
      height: lastConv.outH,
      width: lastConv.outW,
      channels: spec.conv[spec.conv.length - 1],
      label: `${label}.flatten`,
    });
    steps.push(f);
    input = f.y;
    dInput = f.dy;
  }
  const linear = (l: LayerPlan, xIn: Tensor, dx: Tensor | undefined, name: string) =>
    createLinear(engine, {
      net,
      offset: l.offset,
      x: xIn,
      dx,
      batch,
      inDim: l.inDim,
      outDim: l.outDim,
      activation: l.activation,
      label: `${label}.${name}`,
      accumulate: acc,
    });
  i = 0;
  for (const l of plan.torso.filter((t) => t.kind === "dense")) {
    const d: Linear = await linear(l, input, dInput, `dense${i++}`);
    steps.push(d);
    input = d.y;
    dInput = d.dy;
  }
  const z = input, dz = dInput;
  if (!spec.dueling) {
    let hx = z, hdx = dz;
    for (const [k, l] of plan.head.entries()) {
      const d = await linear(l, hx, hdx, k === plan.head.length - 1 ? "q" : "head");
      steps.push(d);
      hx = d.y;
      hdx = d.dy;
    }
    const top = steps[steps.length - 1] as Linear;
    return instance(top.y, top.dy);
  }
  // Dueling: both streams read z; their input gradients are summed into dz.
  const [ah, ao, vh, vo] = plan.head;
  const dzValue = dz
    ? engine.tensor({ dtype: "f32", shape: [A, batch, ah.inDim], label: `${label}.value.dz` })
    : undefined;
  const advHidden = await linear(ah, z, dz, "advantage.hidden");
  const advOut = await linear(ao, advHidden.y, advHidden.dy, "advantage.out");
  const valHidden = await linear(vh, z, dzValue, "value.hidden");
  const valOut = await linear(vo, valHidden.y, valHidden.dy, "value.out");
  const duel = await createDueling(engine, {
    v: valOut.y,
    adv: advOut.y,
    dv: valOut.dy,
    dAdv: advOut.dy,
    numAgents: A,
    batch,
    numActions: spec.numActions,
    label: `${label}.dueling`,
  });
  const sum = dz && dzValue
    ? await createAxpy(engine, { x: dzValue, out: dz, alpha: 1, beta: 1 })
    : null;
  steps.push({
    forward(enc) {
      advHidden.forward(enc);
      advOut.forward(enc);
      valHidden.forward(enc);
      valOut.forward(enc);
      duel.forward(enc);
    },
    backward(enc) {
      duel.backward(enc);
      valOut.backward(enc);
      valHidden.backward(enc);
      advOut.backward(enc);
      advHidden.backward(enc);
      sum?.encode(enc);
    },
  });
  return instance(duel.q, duel.dq);

  function instance(q: Tensor<"f32">, dQ: Tensor<"f32">): QNetwork {
    return {
      q,
      dQ,
      batch,
      forward(enc) {
        for (const s of steps) s.forward(enc);
      },
      backward(enc) {
        for (let s = steps.length - 1; s >= 0; s--) steps[s].backward(enc);
      },
    };
  }
}
