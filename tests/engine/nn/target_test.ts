import { createNet } from "../../../engine/nn/net.ts";
import { createTargetUpdate } from "../../../engine/nn/target.ts";
import { readTensor } from "../../../engine/readback.ts";
import { AGENT_COUNTS, assertAllClose, assertExact, gpuTest, seeded } from "../../_testing.ts";

const STRIDE = 1000 + 37;

/** θ' ← τθ + (1 − τ)θ' in float64, written from the definition. */
function polyakReference(source: ArrayLike<number>, target: ArrayLike<number>, tau: number) {
  return Float64Array.from(target, (t, i) => tau * source[i] + (1 - tau) * t);
}

for (const numAgents of AGENT_COUNTS) {
  gpuTest(
    `createTargetUpdate() hard copies and Polyak-averages (${numAgents} agents)`,
    async (engine) => {
      const n = numAgents * STRIDE, r = seeded(20 + numAgents);
      const online = r.f32(n, -3, 3), stale = r.f32(n, -3, 3);
      const source = createNet(engine, { numAgents, stride: STRIDE, label: "t.q", init: online });
      const target = createNet(engine, { numAgents, stride: STRIDE, label: "t.qt", init: stale });
      const upd = await createTargetUpdate(engine, { source, target, tau: 0.05, label: "t" });

      // Three Polyak steps in one submit, each reading the previous one's target.
      let enc = engine.encoder();
      for (let k = 0; k < 3; k++) upd.polyak(enc);
      engine.submit(enc);
      let want: Float64Array = Float64Array.from(stale);
      for (let k = 0; k < 3; k++) want = polyakReference(online, want, 0.05);
      assertAllClose(await readTensor(engine, target.params), want, { atol: 1e-6, rtol: 1e-5 });

      // τ rewritten between submits.
      upd.setTau(0.5);
      enc = engine.encoder();
      upd.polyak(enc);
      engine.submit(enc);
      want = polyakReference(online, want, 0.5);
      assertAllClose(await readTensor(engine, target.params), want, { atol: 1e-6, rtol: 1e-5 });

      // Hard copy is exact.
      enc = engine.encoder();
      upd.hard(enc);
      engine.submit(enc);
      assertExact(await readTensor(engine, target.params), online, "hard copy");
    },
  );
}

gpuTest("createTargetUpdate() with τ = 1 copies exactly and rejects bad inputs", async (engine) => {
  const numAgents = 2, stride = 45, r = seeded(4);
  const online = r.f32(numAgents * stride);
  const source = createNet(engine, { numAgents, stride, label: "t.q", init: online });
  const target = createNet(engine, {
    numAgents,
    stride,
    label: "t.qt",
    init: r.f32(numAgents * stride),
  });
  const upd = await createTargetUpdate(engine, { source, target, label: "t" });
  const enc = engine.encoder();
  upd.polyak(enc);
  engine.submit(enc);
  assertExact(await readTensor(engine, target.params), online, "polyak τ = 1");

  const other = createNet(engine, { numAgents, stride: stride + 1, label: "t.other" });
  const cases: [() => Promise<unknown>, new (...a: never[]) => Error][] = [
    [() => createTargetUpdate(engine, { source, target: other, label: "t" }), TypeError],
    [() => createTargetUpdate(engine, { source, target: source, label: "t" }), TypeError],
    [() => createTargetUpdate(engine, { source, target, tau: 1.5, label: "t" }), RangeError],
  ];
  for (const [fn, type] of cases) {
    let err: unknown = null;
    try {
      await fn();
    } catch (e) {
      err = e;
    }
    if (!(err instanceof type)) throw new Error(`expected ${type.name}, got ${err}`);
  }
});
