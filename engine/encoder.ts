/**
 * Records many dispatches and copies into one GPUCommandEncoder. Dispatches share one compute pass
 * until a copy or clear ends it (WebGPU orders storage writes between dispatches of a pass).
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";

/** What an encoder uses of its engine ({@linkcode Engine} in `device.ts` is one). */
export interface EncoderHost {
  readonly device: GPUDevice;
  /** Counters the engine reports; each recorded dispatch adds one. */
  readonly stats: { dispatches: number };
}

/**
 * One command encoder with a lazily opened compute pass.
 *
 * @example Record many dispatches into one encoder and submit them together (no await)
 * ```ts
 * import { createEngine, createNet, createTargetUpdate, readTensor } from "../mod.ts";
 *
 * const engine = await createEngine();
 * const q = createNet(engine, {
 *   numAgents: 1,
 *   stride: 2,
 *   label: "example.q",
 *   init: new Float32Array([1, 2]),
 * });
 * const target = createNet(engine, { numAgents: 1, stride: 2, label: "example.target" });
 * const update = await createTargetUpdate(engine, { source: q, target, tau: 0.5, label: "example" });
 * const enc = engine.encoder("example.two-steps");
 * update.polyak(enc); // [0.5, 1]
 * update.polyak(enc); // [0.75, 1.5]: dispatches in one encoder run in order
 * engine.submit(enc);
 * console.log(await readTensor(engine, target.params), engine.stats.dispatches); // [0.75, 1.5] 2
 * engine.destroy();
 * ```
 */
export class Encoder {
  readonly engine: EncoderHost;
  readonly #enc: GPUCommandEncoder;
  #pass: GPUComputePassEncoder | null = null;
  #finished = false;
  /** Labels of the dispatches recorded, in order (named in errors raised at submit). */
  readonly labels: string[] = [];

  constructor(engine: EncoderHost, label: string) {
    this.engine = engine;
    this.#enc = engine.device.createCommandEncoder({ label });
  }

  /** The open compute pass (opened on first use). */
  get pass(): GPUComputePassEncoder {
    this.#assertOpen();
    if (!this.#pass) this.#pass = this.#enc.beginComputePass();
    return this.#pass;
  }

  /** Records one dispatch. */
  dispatch(
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    workgroups: readonly number[],
    label = pipeline.label,
  ): void {
    const pass = this.pass;
    this.labels.push(label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    this.engine.stats.dispatches++;
  }

  /** Records one indirect dispatch; `args` holds three u32 workgroup counts at `elementOffset`. */
  dispatchIndirect(
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    args: Tensor,
    elementOffset = 0,
    label = pipeline.label,
  ): void {
    const pass = this.pass;
    this.labels.push(label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroupsIndirect(args.buffer, args.offset + elementOffset * 4);
    this.engine.stats.dispatches++;
  }

  /** The raw command encoder, with any open compute pass ended (for copies and queries). */
  get raw(): GPUCommandEncoder {
    this.#endPass();
    return this.#enc;
  }

  /** Copies `src` into `dst` (whole `src`, or `bytes` bytes). Both must be 4-byte aligned. */
  copy(src: Tensor, dst: Tensor, bytes = src.byteLength): void {
    if (bytes > dst.byteLength || bytes > src.byteLength) {
      throw new RangeError(
        `Cannot copy ${bytes} bytes from "${src.label}" (${src.byteLength}) to "${dst.label}" (${dst.byteLength})`,
      );
    }
    this.raw.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, bytes);
  }

  /** Fills `t` with zero bytes. */
  clear(t: Tensor): void {
    this.raw.clearBuffer(t.buffer, t.offset, t.byteLength);
  }

  /** Ends recording; called by `engine.submit`. */
  finish(): GPUCommandBuffer {
    this.#assertOpen();
    this.#endPass();
    this.#finished = true;
    return this.#enc.finish();
  }

  #endPass(): void {
    this.#assertOpen();
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  #assertOpen(): void {
    if (this.#finished) throw new Error("Cannot record: encoder already finished and submitted");
  }
}
