// The GS baseline's policy modes (docs/algorithms/dials.md §8.6): `gsPolicy: shared` (the reference's one
// policy object for every agent) against the default independent learners.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Engine } from "../../../engine/device.ts";
import { readTensor, readTensors } from "../../../engine/readback.ts";
import { gruForwardReference } from "../../../engine/nn/gru_reference.ts";
import { findTask } from "../../../envs/registry.ts";
import {
  checkDialsConfig,
  checkDialsOnlyConfig,
  DIALS_DEFAULTS,
  type DialsConfig,
} from "../../../algorithms/dials/config.ts";
import { createPpoGsTrainer } from "../../../algorithms/dials/gs.ts";
import { assertAllClose, assertExact, gpuTest } from "../../_testing.ts";

/** Small traffic PPO (MLP policy): 4 lanes × 16 steps per update. */
const TRAFFIC: DialsConfig = {
  ...DIALS_DEFAULTS,
  rolloutSteps: 16,
  seqLen: 1,
  gaeHorizon: 16,
  hidden: 16,
  hidden2: 8,
  numMinibatches: 2,
};

async function gsTrainer(
  engine: Engine,
  task: string,
  numEnvs: number,
  algo: DialsConfig,
  seed = 5,
) {
  const { def, spec } = findTask(task);
  const env = await def.create(engine, spec, { numEnvs, seed });
  return createPpoGsTrainer(engine, env, { algo, seed, totalSteps: 100_000 });
}

/** Greedy head outputs [N, E, K + 1] with every agent seeing agent 0's observations. */
async function headOnSameObs(
  engine: Engine,
  tr: Awaited<ReturnType<typeof gsTrainer>>,
): Promise<Float32Array> {
  const obs = tr.env.buffers.obs, N = tr.env.spec.numAgents, per = obs.size / N;
  const now = Float32Array.from(await readTensor(engine, obs));
  const same = new Float32Array(obs.size);
  for (let a = 0; a < N; a++) same.set(now.subarray(0, per), a * per);
  engine.write(obs, same);
  const enc = engine.encoder("t.act");
  tr.encodeAct(enc, { greedy: true });
  engine.submit(enc);
  return Float32Array.from(await readTensor(engine, tr.agents.actor.out));
}

gpuTest(
  "ppo_gs with gsPolicy shared acts with one set of weights for every agent and differs from independent",
  async (engine) => {
    const N = 4, E = 4, iters = 2;
    const ind = await gsTrainer(engine, "traffic-4", E, TRAFFIC);
    const sh = await gsTrainer(engine, "traffic-4", E, { ...TRAFFIC, gsPolicy: "shared" });
    assertEquals([ind.agents.net.numAgents, sh.agents.net.numAgents], [N, 1]);
    const stride = sh.agents.net.stride;
    const [ind0, sh0] = await readTensors(engine, [ind.agents.net.params, sh.agents.net.params]);
    assertExact(sh0, ind0.subarray(0, stride)); // the shared net starts as agent 0's draw
    ind.run(iters);
    sh.run(iters);
    const mi = await ind.readMetrics(), ms = await sh.readMetrics();
    const steps = iters * TRAFFIC.epochs * TRAFFIC.numMinibatches;
    assertEquals([mi.scalars.minibatchSteps, ms.scalars.minibatchSteps], [steps, steps]);
    for (const k of ["policyLoss", "valueLoss", "entropy", "clipFraction"]) {
      assert(Number.isFinite(ms.scalars[k]), `${k} is ${ms.scalars[k]}`);
    }
    // One Adam per agent on the shared block, each stepped once per minibatch of its own data.
    const { adams } = sh.agents.learner;
    assertEquals(adams.length, N);
    const counts = await readTensors(engine, adams.map((a) => a.count));
    assertEquals(counts.map((c) => c[0]), new Array(N).fill(steps));
    const moments = await readTensors(engine, adams.map((a) => a.m));
    for (let a = 1; a < N; a++) {
      assert(
        moments[a].some((v, i) => v !== moments[0][i]),
        `agent ${a}'s Adam has its own moments`,
      );
    }
    // After the updates every agent still acts with the same weights: equal observations give
    // equal outputs for all agents; the independent agents differ.
    const headS = await headOnSameObs(engine, sh), headI = await headOnSameObs(engine, ind);
    const per = headS.length / N;
    for (let a = 1; a < N; a++) {
      assertExact(headS.subarray(a * per, (a + 1) * per), headS.subarray(0, per));
      assert(
        headI.subarray(a * per, (a + 1) * per).some((v, i) => v !== headI[i]),
        `independent agent ${a} acts with its own weights`,
      );
    }
    const [pi, ps] = await readTensors(engine, [ind.agents.net.params, sh.agents.net.params]);
    for (let a = 0; a < N; a++) {
      const block = pi.subarray(a * stride, (a + 1) * stride);
      assert(
        ps.some((v, i) => v !== block[i]),
        `shared weights differ from independent agent ${a}`,
      );
    }
  },
);

gpuTest(
  "ppo_gs with gsPolicy shared applies the agents' updates in turn: later agents see moved weights",
  async (engine) => {
    // One epoch of one minibatch per agent and a large constant step: an independent agent's only
    // minibatch sees the weights it acted with (ratio 1, nothing clipped); on the shared network
    // agents 1…N−1 start from the weights agents before them already moved.
    const algo: DialsConfig = {
      ...TRAFFIC,
      epochs: 1,
      numMinibatches: 1,
      lr: 0.05,
      lrEnd: 0.05,
      clip: 0.1,
      clipEnd: 0.1,
    };
    const ind = await gsTrainer(engine, "traffic-4", 4, algo, 9);
    const sh = await gsTrainer(engine, "traffic-4", 4, { ...algo, gsPolicy: "shared" }, 9);
    ind.run(1);
    sh.run(1);
    const mi = await ind.readMetrics(), ms = await sh.readMetrics();
    assertEquals([mi.scalars.minibatchSteps, ms.scalars.minibatchSteps], [1, 1]);
    assert(mi.scalars.clipFraction === 0, `independent clip fraction ${mi.scalars.clipFraction}`);
    assert(ms.scalars.clipFraction > 0.1, `shared clip fraction ${ms.scalars.clipFraction}`);
    // The shuffles and gathers read each agent's own rows: the last pass's minibatch is agent
    // N − 1's rollout in its permutation's order.
    const { rollout, learner } = sh.agents;
    const [perm, mbObs, obsStore] = await readTensors(
      engine,
      [learner.minibatch.perm, learner.minibatch.mbObs, rollout.obsStore] as const,
    );
    const N = 4, E = 4, D = rollout.obsDim, T = rollout.steps;
    const want = new Float32Array(mbObs.length);
    for (let b = 0; b < T * E; b++) {
      const s = perm[b], step = Math.floor(s / E), e = s % E;
      const src = (step * N + (N - 1)) * E + e;
      want.set(obsStore.subarray(src * D, src * D + D), b * D);
    }
    assertExact(mbObs, want);
  },
);

gpuTest(
  "the shared GRU policy chains its state through the agents each step and restarts at episode starts",
  async (engine) => {
    const algo: DialsConfig = {
      ...DIALS_DEFAULTS,
      hidden: 8,
      hidden2: 8,
      rolloutSteps: 8,
      seqLen: 1, // the rollout then stores the state every step reads
      gaeHorizon: 8,
      numMinibatches: 2,
      gsPolicy: "shared",
    };
    const E = 3, N = 4, T = 8, H = 8;
    const tr = await gsTrainer(engine, "warehouse-4", E, algo);
    const { rollout, net } = tr.agents;
    const D = rollout.obsDim;
    const collect = async () => {
      const enc = engine.encoder("t.collect");
      rollout.encodeCollect(enc); // acting only: the weights stay fixed
      engine.submit(enc);
      return await readTensors(
        engine,
        [rollout.hStore, rollout.obsStore, rollout.doneStore] as const,
      );
    };
    const params = Float64Array.from(await readTensor(engine, net.params));
    const gru = (x: ArrayLike<number>, h: ArrayLike<number>) =>
      gruForwardReference({
        numAgents: 1,
        steps: 1,
        batch: 1,
        inDim: D,
        hidden: H,
        stride: net.stride,
        offset: 0,
        x,
        w: params,
        h0: h,
      }).hs;
    const at = (t: number, a: number, e: number) => ((t * N + a) * E + e);
    // The first step of a run is an episode start: every agent reads a zero state.
    const [h0] = await collect();
    assertExact(h0.subarray(0, N * E * H), new Float32Array(N * E * H));
    // Steps 96 … 103 cross the end of the 100-step episode (slot 3 ends it, slot 4 starts one).
    for (let c = 1; c < 12; c++) await collect();
    const [hs, obs, done] = await collect();
    assertEquals([...done].filter((_, i) => Math.floor(i / E) === 3), new Array(E).fill(1));
    let checked = 0;
    for (let t = 0; t < T; t++) {
      const start = t > 0 && done[(t - 1) * E] === 1;
      for (let e = 0; e < E; e++) {
        for (let a = 0; a < N; a++) {
          const got = hs.subarray(at(t, a, e) * H, at(t, a, e) * H + H);
          if (start) {
            assertExact(got, new Float32Array(H));
            continue;
          }
          // Agent a > 0 reads agent a − 1's new state of this step; agent 0 reads agent N − 1's
          // of the previous step (t = 0: not stored in this rollout, skipped).
          const [tp, ap] = a > 0 ? [t, a - 1] : [t - 1, N - 1];
          if (tp < 0) continue;
          const x = obs.subarray(at(tp, ap, e) * D, at(tp, ap, e) * D + D);
          const h = hs.subarray(at(tp, ap, e) * H, at(tp, ap, e) * H + H);
          assertAllClose(
            got,
            gru(x, h),
            { atol: 1e-5, rtol: 1e-4 },
            `h(t ${t}, agent ${a}, e ${e})`,
          );
          checked++;
        }
      }
    }
    assert(checked >= (T - 2) * E * N, `${checked} chained states checked`);
  },
);

gpuTest("ppo_gs with gsPolicy shared resumes a run identically from its state", async (engine) => {
  const algo: DialsConfig = {
    ...DIALS_DEFAULTS,
    hidden: 8,
    hidden2: 8,
    numMinibatches: 2,
    gsPolicy: "shared",
  };
  const a = await gsTrainer(engine, "warehouse-4", 2, algo, 7);
  a.run(2);
  const state = a.stateTensors();
  const keys = Object.keys(state);
  for (const k of ["ppo.adam.0.m", "ppo.adam.3.count", "ppo.actor.h", "ppo.actor.started"]) {
    assert(keys.includes(k), `state lists ${k}`);
  }
  const saved = await readTensors(engine, keys.map((k) => state[k]));
  const b = await gsTrainer(engine, "warehouse-4", 2, algo, 7);
  const restored = b.stateTensors();
  assertEquals(Object.keys(restored), keys);
  keys.forEach((k, i) => engine.write(restored[k], saved[i] as ArrayLike<number>));
  b.restoreHostState(a.hostState());
  a.run(2);
  b.run(2);
  const [pa, pb] = await readTensors(engine, [a.agents.net.params, b.agents.net.params] as const);
  assertExact(pb, pa, "shared params after resume");
  assertEquals(JSON.stringify(await b.readMetrics()), JSON.stringify(await a.readMetrics()));
});

Deno.test("gsPolicy is checked: independent or shared for ppo_gs, independent for DIALS", () => {
  const run = { seed: 1, numEnvs: 16, totalSteps: 1000, env: "warehouse-4" };
  assertEquals(checkDialsConfig(run, { ...DIALS_DEFAULTS, gsPolicy: "shared" }), []);
  assertEquals(checkDialsConfig(run, DIALS_DEFAULTS), []);
  assert(
    checkDialsConfig(run, { ...DIALS_DEFAULTS, gsPolicy: "one" }).some((p) => /gsPolicy/.test(p)),
  );
  assert(
    checkDialsOnlyConfig(run, { ...DIALS_DEFAULTS, gsPolicy: "shared" }).some((p) =>
      /ppo_gs only/.test(p)
    ),
  );
});
