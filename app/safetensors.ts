/**
 * The safetensors format (readable by PyTorch's `safetensors.torch.load_file`), in memory: an
 * 8-byte little-endian header length, a JSON header (per tensor: dtype F32/U32/I32/U8, shape,
 * data_offsets into the data section; plus `__metadata__`, string → string), then the raw
 * little-endian data. Pure: no file system, so browsers use it too (`web.ts`); checkpoints
 * (`app/checkpoint.ts`, `app/checkpoint_bytes.ts`) are safetensors files.
 *
 * @module
 */
import type { DType } from "../engine/tensor.ts";

/** Host arrays a checkpoint holds. */
export type HostArray = Float32Array | Uint32Array | Int32Array | Uint8Array;

/** One stored tensor. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: HostArray;
}

/** The contents of a safetensors file. */
export interface SafetensorsData {
  tensors: Record<string, StoredTensor>;
  metadata: Record<string, string>;
}

const ST_DTYPE: Readonly<Record<DType, string>> = { f32: "F32", u32: "U32", i32: "I32", u8: "U8" };
const FROM_ST: Readonly<Record<string, DType>> = { F32: "f32", U32: "u32", I32: "i32", U8: "u8" };
const BYTES: Readonly<Record<DType, number>> = { f32: 4, u32: 4, i32: 4, u8: 1 };

/**
 * Encodes tensors and metadata as safetensors bytes (tensors in name order, header padded with
 * spaces to a multiple of 8 bytes).
 *
 * @param data Tensors and string metadata.
 * @returns The file contents.
 */
export function encodeSafetensors(data: SafetensorsData): Uint8Array {
  const names = Object.keys(data.tensors).sort();
  const header: Record<string, unknown> = { __metadata__: data.metadata };
  let off = 0;
  for (const name of names) {
    const t = data.tensors[name];
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new TypeError(
        `Cannot encode tensor "${name}": shape [${t.shape}] has ${n} elements, data has ${t.data.length}`,
      );
    }
    const bytes = n * BYTES[t.dtype];
    header[name] = { dtype: ST_DTYPE[t.dtype], shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const d = data.tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/**
 * Decodes safetensors bytes (F32, U32, I32 and U8 tensors).
 *
 * @param bytes The file contents.
 * @param source Name used in errors.
 * @returns Tensors (copied out, aligned) and metadata.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "checkpoint"): SafetensorsData {
  const fail = (why: string) => new TypeError(`Cannot read checkpoint "${source}": ${why}`);
  if (bytes.length < 8) throw fail(`file has ${bytes.length} bytes, not a safetensors file`);
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (len > bytes.length - 8) throw fail(`header length ${len} exceeds the file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw fail("header is not JSON");
  }
  const base = 8 + len;
  const out: SafetensorsData = { tensors: {}, metadata: {} };
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      out.metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const dtype = FROM_ST[e.dtype];
    if (!dtype) throw fail(`tensor "${name}" has dtype ${e.dtype}, expected F32, U32, I32 or U8`);
    const [a, b] = e.data_offsets;
    const n = e.shape.reduce((x, y) => x * y, 1);
    if (b - a !== n * BYTES[dtype] || base + b > bytes.length) {
      throw fail(`tensor "${name}" has data_offsets [${a}, ${b}] that do not fit its shape`);
    }
    const raw = bytes.slice(base + a, base + b);
    const data = dtype === "f32"
      ? new Float32Array(raw.buffer)
      : dtype === "u32"
      ? new Uint32Array(raw.buffer)
      : dtype === "i32"
      ? new Int32Array(raw.buffer)
      : raw;
    out.tensors[name] = { dtype, shape: [...e.shape], data };
  }
  return out;
}
