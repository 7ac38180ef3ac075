// Bit-packed 0/1 rows (envs/bits.ts, the AIP dataset input layout): word counts, the bit
// positions of single values, round trips at ragged widths, and the rejections. Runs without a GPU.
import { throws as assertThrows } from "node:assert/strict";
import { packBits, packedWords, unpackBits } from "../../envs/bits.ts";
import { assertExact, seeded } from "../_testing.ts";

Deno.test("packedWords() is ⌈width / 32⌉", () => {
  assertExact([1, 31, 32, 33, 36, 37, 64, 65].map(packedWords), [1, 1, 1, 2, 2, 2, 2, 3]);
});

Deno.test("packBits() puts value d at bit d % 32 of word ⌊d / 32⌋ and leaves padding bits 0", () => {
  const width = 37, rows = 2;
  for (const d of [0, 1, 5, 31, 32, 36]) {
    const values = new Float32Array(rows * width);
    values[width + d] = 1; // row 1
    const want = new Uint32Array(rows * 2);
    want[2 + Math.floor(d / 32)] = 2 ** (d % 32); // 2 ** 31 checks the sign bit stays unsigned
    assertExact(packBits(values, width), want, `value ${d}`);
  }
  assertExact(packBits(new Array(37).fill(1), 37), [0xffffffff, 0x1f], "all ones");
});

Deno.test("unpackBits() inverts packBits() on random rows of ragged widths", () => {
  const rng = seeded(3);
  for (const width of [1, 5, 31, 32, 33, 36, 37, 70]) {
    const values = Float32Array.from(rng.u32(7 * width, 2));
    const words = packBits(values, width);
    assertExact([words.length], [7 * packedWords(width)], `width ${width} words`);
    assertExact(unpackBits(words, width), values, `width ${width}`);
  }
});

Deno.test("packBits() and unpackBits() reject non-binary values and partial rows", () => {
  assertThrows(
    () => packBits([0, 1, 0.5], 3),
    /value 0.5 at row 0, index 2: values must be 0 or 1/,
  );
  assertThrows(() => packBits([0, 1, 2, 0], 2), /value 2 at row 1, index 0/);
  assertThrows(() => packBits([0, 1, 1], 2), /3 values into rows of 2/);
  assertThrows(() => unpackBits([1, 2, 3], 40), /3 words into rows of 40 values/);
  assertThrows(() => packedWords(0), /width must be a positive integer/);
});
