/**
 * Bit-packed rows of 0/1 values, the layout of the AIP datasets (`docs/algorithms/dials.md` §3, §4): a row of
 * `width` binary values is {@linkcode packedWords}`(width)` = ⌈width / 32⌉ u32 words, value `d`
 * at bit `d % 32` of word `⌊d / 32⌋` (bits past `width` in the last word are 0). A table
 * [numAgents, rows, width] of 0/1 values is stored as [numAgents, rows, ⌈width / 32⌉] u32, a
 * quarter of a 32-bit float per value at most, so the 100-agent datasets fit a 128 MiB storage
 * binding. Writers: `shaders/envs/warehouse/dataset.wgsl` (`record`) and
 * `shaders/envs/traffic/influence.wgsl` (`record`), one thread per row, so no two threads share a word;
 * reader: `shaders/algorithms/dials/aip.wgsl` (`gather`). These helpers are the CPU side (tests,
 * uploads).
 *
 * ```ts
 * import { packBits, unpackBits } from "./bits.ts";
 * const words = packBits([1, 0, 1], 3); // Uint32Array [5]
 * unpackBits(words, 3); // Float32Array [1, 0, 1]
 * ```
 *
 * @module
 */

/** Bits per packed word. */
export const BITS_PER_WORD = 32;

/**
 * Words of one packed row of `width` values: ⌈width / 32⌉.
 *
 * @param width Values per row (≥ 1).
 * @returns The row's word count.
 */
export function packedWords(width: number): number {
  if (!Number.isInteger(width) || width < 1) {
    throw new RangeError(`Cannot pack rows of ${width} values: width must be a positive integer`);
  }
  return Math.ceil(width / BITS_PER_WORD);
}

/**
 * Packs rows of 0/1 values (flat, row-major, `width` per row) into ⌈width / 32⌉ u32 words per
 * row, value `d` of a row at bit `d % 32` of word `⌊d / 32⌋`.
 *
 * @param values Flat rows of 0/1 values; their count is a multiple of `width`.
 * @param width Values per row.
 * @returns The packed words [rows, ⌈width / 32⌉].
 */
export function packBits(values: ArrayLike<number>, width: number): Uint32Array {
  const W = packedWords(width);
  if (values.length % width !== 0) {
    throw new RangeError(
      `Cannot pack ${values.length} values into rows of ${width}: not a whole number of rows`,
    );
  }
  const rows = values.length / width;
  const out = new Uint32Array(rows * W);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < width; d++) {
      const v = values[r * width + d];
      if (v !== 0 && v !== 1) {
        throw new RangeError(
          `Cannot pack value ${v} at row ${r}, index ${d}: values must be 0 or 1`,
        );
      }
      // Unsigned OR: bit 31 would otherwise make the intermediate negative (stored the same).
      out[r * W + Math.floor(d / BITS_PER_WORD)] |= v << (d % BITS_PER_WORD);
    }
  }
  return out;
}

/**
 * Unpacks rows packed by {@linkcode packBits} back into 0/1 values.
 *
 * @param words Packed rows, ⌈width / 32⌉ words each.
 * @param width Values per row.
 * @returns The values [rows, width] as 0/1 floats.
 */
export function unpackBits(words: ArrayLike<number>, width: number): Float32Array {
  const W = packedWords(width);
  if (words.length % W !== 0) {
    throw new RangeError(
      `Cannot unpack ${words.length} words into rows of ${width} values: rows need ${W} words each`,
    );
  }
  const rows = words.length / W;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < width; d++) {
      out[r * width + d] = (words[r * W + Math.floor(d / BITS_PER_WORD)] >>> (d % BITS_PER_WORD)) &
        1;
    }
  }
  return out;
}
