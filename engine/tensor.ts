/**
 * Typed GPU tensors: a dtype, a row-major shape and a label over a GPUBuffer region.
 *
 * @module
 */

/** Element types the engine stores. `u8` is packed four to a u32 word on the GPU. */
export type DType = "f32" | "u32" | "i32" | "u8";

/** Host array type for each dtype. */
export interface HostArrays {
  f32: Float32Array;
  u32: Uint32Array;
  i32: Int32Array;
  u8: Uint8Array;
}

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { f32: 4, u32: 4, i32: 4, u8: 1 };

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `Cannot size shape [${shape.join(", ")}]: dimensions must be integers >= 0`,
      );
    }
    n *= d;
  }
  return n;
}

/** Bytes a GPU buffer needs for `n` elements of `dtype` (rounded up to 4-byte words, at least 4). */
export function bufferBytes(dtype: DType, n: number): number {
  return Math.max(4, Math.ceil((n * DTYPE_BYTES[dtype]) / 4) * 4);
}

/** Allocates a host array of the dtype. */
export function hostArray<D extends DType>(dtype: D, n: number): HostArrays[D] {
  switch (dtype) {
    case "f32":
      return new Float32Array(n) as HostArrays[D];
    case "u32":
      return new Uint32Array(n) as HostArrays[D];
    case "i32":
      return new Int32Array(n) as HostArrays[D];
    default:
      return new Uint8Array(n) as HostArrays[D];
  }
}

/**
 * A typed view of (part of) a GPUBuffer. `offset` is in bytes; views with a non-zero offset must
 * respect the device's storage offset alignment (checked by {@linkcode Tensor.view}).
 *
 * @example Tensors are typed GPU buffers with a shape and a label
 * ```ts
 * import { createEngine, type Tensor } from "../mod.ts";
 *
 * const engine = await createEngine();
 * const obs: Tensor<"f32"> = engine.tensor({ dtype: "f32", shape: [4, 16, 8], label: "obs" });
 * console.log(obs.shape, obs.size, obs.byteLength); // [4, 16, 8] 512 2048
 * engine.destroy();
 * ```
 */
export class Tensor<D extends DType = DType> {
  readonly buffer: GPUBuffer;
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly label: string;
  /** Byte offset into `buffer`. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  readonly #alignment: number;

  constructor(
    buffer: GPUBuffer,
    options: {
      dtype: D;
      shape: readonly number[];
      label: string;
      offset?: number;
      alignment?: number;
    },
  ) {
    this.buffer = buffer;
    this.dtype = options.dtype;
    this.shape = Object.freeze([...options.shape]);
    this.label = options.label;
    this.offset = options.offset ?? 0;
    this.size = sizeOf(options.shape);
    this.#alignment = options.alignment ?? 256;
    if (this.offset + this.byteLength > buffer.size) {
      throw new RangeError(
        `Cannot view "${this.label}": needs bytes [${this.offset}, ${
          this.offset + this.byteLength
        }), buffer has ${buffer.size}`,
      );
    }
  }

  /** Bytes the elements occupy, rounded up to whole 4-byte words. */
  get byteLength(): number {
    return bufferBytes(this.dtype, this.size);
  }

  /**
   * A view of `shape` starting `elementOffset` elements in. The byte offset must be a multiple of
   * the device's `minStorageBufferOffsetAlignment` (256 on most adapters).
   */
  view(elementOffset: number, shape: readonly number[], label = `${this.label}.view`): Tensor<D> {
    const byteOffset = this.offset + elementOffset * DTYPE_BYTES[this.dtype];
    if (byteOffset % this.#alignment !== 0) {
      throw new RangeError(
        `Cannot view "${this.label}" at element ${elementOffset}: byte offset ${byteOffset} is not a multiple of ${this.#alignment}`,
      );
    }
    if (elementOffset + sizeOf(shape) > this.size) {
      throw new RangeError(
        `Cannot view "${this.label}" at element ${elementOffset} with shape [${
          shape.join(", ")
        }]: tensor has ${this.size} elements`,
      );
    }
    return new Tensor(this.buffer, {
      dtype: this.dtype,
      shape,
      label,
      offset: byteOffset,
      alignment: this.#alignment,
    });
  }

  /** The same elements with another shape of equal size. */
  reshape(shape: readonly number[], label = this.label): Tensor<D> {
    if (sizeOf(shape) !== this.size) {
      throw new TypeError(
        `Cannot reshape "${this.label}" [${this.shape.join(", ")}] to [${
          shape.join(", ")
        }]: sizes differ`,
      );
    }
    return new Tensor(this.buffer, {
      dtype: this.dtype,
      shape,
      label,
      offset: this.offset,
      alignment: this.#alignment,
    });
  }

  /** The binding resource for a bind group entry. */
  get resource(): GPUBufferBinding {
    return { buffer: this.buffer, offset: this.offset, size: this.byteLength };
  }
}

/** What {@linkcode assertShape} checks besides the size, and how its error names the tensor. */
export interface ShapeCheck {
  /** Label of the op being built or bound (quoted in the error). */
  op: string;
  /** The tensor's role in the op, e.g. `"action"`. */
  name: string;
  /** Allowed element types; default any. */
  dtype?: DType | readonly DType[];
  /** What failed: "build" (default) or "bind". */
  verb?: "build" | "bind";
}

/**
 * Throws unless `tensor` holds as many elements as `shape` (row-major, so any shape of that size
 * binds) and, when `what.dtype` is given, has one of those element types. The one shape check of
 * the engine's constructors; the error reads
 * `Cannot build "idqn.loss": action is f32 [2, 5] (tensor "q.act"), which is not u32 [2, 4]`.
 *
 * @param tensor The tensor to check.
 * @param shape The shape it must have (its element count is compared).
 * @param what The op and role named in the error, and the allowed dtypes.
 * @throws {TypeError} When the size or the dtype differs.
 */
export function assertShape(tensor: Tensor, shape: readonly number[], what: ShapeCheck): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const dtypes: readonly DType[] | null = what.dtype === undefined
    ? null
    : typeof what.dtype === "string"
    ? [what.dtype]
    : what.dtype;
  if (tensor.size === n && (dtypes === null || dtypes.includes(tensor.dtype))) return;
  const want = dtypes === null ? "" : `${dtypes.join(" or ")} `;
  throw new TypeError(
    `Cannot ${what.verb ?? "build"} "${what.op}": ${what.name} is ${tensor.dtype} [${
      tensor.shape.join(", ")
    }] (tensor "${tensor.label}"), which is not ${want}[${shape.join(", ")}]`,
  );
}
