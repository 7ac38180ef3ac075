/**
 * Target-network updates between two {@linkcode Net}s of the same shape: a hard copy θ' ← θ
 * (DQN presets) and Polyak averaging θ' ← τθ + (1 − τ)θ' (SEQL, τ = 0.05). Both are single
 * dispatches inside the compute pass, so they can sit between other kernels of one encoder.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import type { Net } from "./net.ts";

const SHADER = "engine/nn/target.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = { n: "u32", tau: "f32", keep: "f32" } as const;

/** thetaTarget[i] = theta[i], one thread per parameter. */
export const targetHard = defineKernel({
  name: "target.hard",
  shader: SHADER,
  entryPoint: "hard",
  includes: INCLUDES,
  bindings: { theta: "read", thetaTarget: "write" },
  params: PARAMS,
  threads: (p) => p.n,
});

/** thetaTarget[i] = τ·theta[i] + (1 − τ)·thetaTarget[i], one thread per parameter. */
export const targetPolyak = defineKernel({
  name: "target.polyak",
  shader: SHADER,
  entryPoint: "polyak",
  includes: INCLUDES,
  bindings: { theta: "read", thetaTarget: "write" },
  params: PARAMS,
  threads: (p) => p.n,
});

/** Options of {@linkcode createTargetUpdate}. */
export interface TargetUpdateOptions {
  /** Online network θ (read). */
  source: Net;
  /** Target network θ' (written); same numAgents and stride as `source`. */
  target: Net;
  /** Polyak coefficient τ in [0, 1]. Default 1 (then `polyak` equals `hard`). */
  tau?: number;
  /** Labels are `<label>.target.*`. */
  label: string;
}

/** Bound target updates from one network's parameters into another's. */
export interface TargetUpdate {
  /** Current τ. */
  readonly tau: number;
  /** Records θ' ← θ. */
  hard(enc: Encoder): void;
  /** Records θ' ← τθ + (1 − τ)θ'. */
  polyak(enc: Encoder): void;
  /** Changes τ; lands before the next submit. */
  setTau(tau: number): void;
}

function polyakParams(label: string, n: number, tau: number) {
  if (!(tau >= 0 && tau <= 1)) {
    throw new RangeError(
      `Cannot configure "${label}.target": tau is ${tau}, needs a value in [0, 1]`,
    );
  }
  return { n, tau, keep: 1 - tau };
}

/**
 * Builds the hard and Polyak target updates from `options.source` into `options.target`.
 *
 * @param engine Engine that owns the device.
 * @param options Source and target networks (same shape), τ and a label.
 * @returns A {@linkcode TargetUpdate} whose `hard(enc)` / `polyak(enc)` encode one update.
 *
 * @example Copy online parameters into a target network (hard) or blend them (Polyak)
 * ```ts
 * import { createEngine, createNet, createTargetUpdate, readTensor } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const online = createNet(engine, {
 *   numAgents: 1,
 *   stride: 2,
 *   label: "example.q",
 *   init: new Float32Array([1, 2]),
 * });
 * const target = createNet(engine, { numAgents: 1, stride: 2, label: "example.target" });
 * const update = await createTargetUpdate(engine, {
 *   source: online,
 *   target,
 *   tau: 0.5,
 *   label: "example",
 * });
 * const enc = engine.encoder("example");
 * update.polyak(enc); // θ̄ ← τ·θ + (1 − τ)·θ̄
 * engine.submit(enc);
 * console.log(await readTensor(engine, target.params)); // [0.5, 1]
 * engine.destroy();
 * ```
 */
export async function createTargetUpdate(
  engine: Engine,
  options: TargetUpdateOptions,
): Promise<TargetUpdate> {
  const { source, target, label } = options;
  if (source.numAgents !== target.numAgents || source.stride !== target.stride) {
    throw new TypeError(
      `Cannot build "${label}.target": source "${source.label}" is [${source.numAgents}, ${source.stride}], target "${target.label}" is [${target.numAgents}, ${target.stride}]`,
    );
  }
  if (source.params.buffer === target.params.buffer) {
    throw new TypeError(
      `Cannot build "${label}.target": source "${source.label}" and target "${target.label}" share one buffer`,
    );
  }
  const n = source.numAgents * source.stride;
  let p = polyakParams(label, n, options.tau ?? 1);
  const [kh, kp] = await Promise.all([
    compileKernel(engine, targetHard),
    compileKernel(engine, targetPolyak),
  ]);
  const tensors = { theta: source.params, thetaTarget: target.params };
  const hardDispatch = kh.bind(tensors, p, `${label}.target.hard`);
  const polyakDispatch = kp.bind(tensors, p, `${label}.target.polyak`);
  return {
    get tau() {
      return p.tau;
    },
    hard(enc) {
      hardDispatch.encode(enc);
    },
    polyak(enc) {
      polyakDispatch.encode(enc);
    },
    setTau(tau) {
      p = polyakParams(label, n, tau);
      polyakDispatch.writeParams(p);
    },
  };
}
