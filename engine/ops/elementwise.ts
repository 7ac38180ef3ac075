/**
 * Elementwise utilities: fill, iota, axpy and u8 → f32 unpacking.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import type { Tensor } from "../tensor.ts";

const SHADER = "engine/ops/elementwise.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = { n: "u32", value: "f32", alpha: "f32", beta: "f32" } as const;

/** out[i] = value. */
export const fillKernel = defineKernel({
  name: "elementwise.fill",
  shader: SHADER,
  entryPoint: "fill",
  includes: INCLUDES,
  bindings: { out: "write" },
  params: PARAMS,
  threads: (p) => p.n,
});

/** idx[i] = value + i·alpha (as u32). */
export const iotaKernel = defineKernel({
  name: "elementwise.iota",
  shader: SHADER,
  entryPoint: "iota",
  includes: INCLUDES,
  bindings: { idx: "write" },
  params: PARAMS,
  threads: (p) => p.n,
});

/** out[i] = alpha·x[i] + beta·out[i]. */
export const axpyKernel = defineKernel({
  name: "elementwise.axpy",
  shader: SHADER,
  entryPoint: "axpy",
  includes: INCLUDES,
  bindings: { x: "read", out: "write" },
  params: PARAMS,
  threads: (p) => p.n,
});

/** out[i] = f32(byte i) of a u8 tensor packed four per word. */
export const unpackU8Kernel = defineKernel({
  name: "elementwise.unpackU8",
  shader: SHADER,
  entryPoint: "unpackU8",
  includes: INCLUDES,
  bindings: { packed: "read", out: "write" },
  params: PARAMS,
  threads: (p) => p.n,
});

/** A recorded elementwise operation. */
export interface ElementwiseOp {
  encode(enc: Encoder): void;
}

/** Builds `out[i] = value` over the whole tensor. */
export async function createFill(
  engine: Engine,
  out: Tensor,
  value: number,
): Promise<ElementwiseOp> {
  if (out.dtype !== "f32") {
    throw new TypeError(`Cannot fill "${out.label}": dtype ${out.dtype}, want f32`);
  }
  const k = await compileKernel(engine, fillKernel);
  return k.bind({ out }, { n: out.size, value, alpha: 0, beta: 0 }, `${out.label}.fill`);
}

/** Builds `out = alpha·x + beta·out`. */
export async function createAxpy(
  engine: Engine,
  options: { x: Tensor; out: Tensor; alpha: number; beta: number },
): Promise<ElementwiseOp> {
  const { x, out, alpha, beta } = options;
  if (x.size !== out.size || x.dtype !== "f32" || out.dtype !== "f32") {
    throw new TypeError(
      `Cannot axpy "${x.label}" into "${out.label}": need two f32 tensors of equal size`,
    );
  }
  const k = await compileKernel(engine, axpyKernel);
  return k.bind({ x, out }, { n: out.size, value: 0, alpha, beta }, `${out.label}.axpy`);
}

/** Builds the u8 → f32 conversion of `packed` into `out`. */
export async function createUnpackU8(
  engine: Engine,
  options: { packed: Tensor; out: Tensor },
): Promise<ElementwiseOp> {
  const { packed, out } = options;
  if (packed.dtype !== "u8" || out.dtype !== "f32" || packed.size !== out.size) {
    throw new TypeError(
      `Cannot unpack "${packed.label}" (${packed.dtype}, ${packed.size}) into "${out.label}" (${out.dtype}, ${out.size})`,
    );
  }
  const k = await compileKernel(engine, unpackU8Kernel);
  return k.bind(
    { packed, out },
    { n: out.size, value: 0, alpha: 0, beta: 0 },
    `${out.label}.unpack`,
  );
}
