// createReplicateBlocks(): dst[b] = src[b mod srcBlocks] equals its CPU reference at ragged sizes.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createEngine } from "../../../engine/device.ts";
import { readTensor } from "../../../engine/readback.ts";
import { createReplicateBlocks, replicateBlocksReference } from "../../../engine/ops/replicate.ts";

Deno.test("replicate: blocks b mod srcBlocks at ragged sizes equal the CPU reference", async () => {
  const engine = await createEngine();
  try {
    for (const [srcBlocks, numBlocks, stride] of [[1, 3, 5], [3, 12, 7], [2, 2, 129], [5, 15, 1]]) {
      const host = Float32Array.from({ length: srcBlocks * stride }, (_, i) => i * 0.5 - 3);
      const src = engine.tensor({
        dtype: "f32",
        shape: [srcBlocks, stride],
        label: "src",
        data: host,
      });
      const dst = engine.tensor({ dtype: "f32", shape: [numBlocks, stride], label: "dst" });
      const op = await createReplicateBlocks(engine, { src, dst, stride, label: "rep" });
      const enc = engine.encoder("rep");
      op.encode(enc);
      engine.submit(enc);
      assertEquals(
        await readTensor(engine, dst),
        replicateBlocksReference(host, numBlocks, stride),
      );
    }
  } finally {
    engine.destroy();
  }
});
