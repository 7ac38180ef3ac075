// createFiniteCheck(): counts of NaN / ±Inf per tensor equal a CPU count, at ragged sizes and past
// 65,535 workgroups (2-D dispatch), never counting large finite values, subnormals or −0.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createFiniteCheck } from "../../../engine/ops/finite.ts";
import { readTensor } from "../../../engine/readback.ts";
import { gpuTest, seeded } from "../../_testing.ts";

gpuTest("createFiniteCheck() counts NaN and ±Inf per tensor like the CPU", async (engine) => {
  const rng = seeded(3);
  const sizes = [1, 33, 1000, 70_001, 4_200_017];
  const specials = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -0, 0];
  const tensors: Record<string, ReturnType<typeof engine.tensor>> = {};
  const want: { name: string; count: number }[] = [];
  for (const [k, n] of sizes.entries()) {
    const host = rng.f32(n);
    // A few specials at random places (tensor 2 gets only finite ones).
    for (let i = 0; i < Math.min(n, 7); i++) {
      const v = k === 2 ? specials[3 + (i % 5)] : specials[i % specials.length];
      host[Math.floor(rng.f32(1)[0] * 0.5 * n + n / 2) % n] = v;
    }
    const name = `t${k}`;
    tensors[name] = engine.tensor({ dtype: "f32", shape: [n], label: `t.${name}`, data: host });
    const count = host.reduce((c, v) => c + (Number.isFinite(v) ? 0 : 1), 0);
    if (count > 0) want.push({ name, count });
  }
  tensors.ids = engine.tensor({ dtype: "u32", shape: [5], label: "t.ids" }); // skipped: not f32
  const check = await createFiniteCheck(engine, tensors, "t");
  assertEquals(check.names, sizes.map((_, k) => `t${k}`));
  for (let round = 0; round < 2; round++) { // counters restart at zero on every encode
    const enc = engine.encoder("t");
    check.encode(enc);
    engine.submit(enc);
    assertEquals(check.decode(await readTensor(engine, check.counts)), want);
  }
});
