import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Engine } from "../../../engine/device.ts";
import { compileKernel } from "../../../engine/kernel.ts";
import { readTensor, readTensors } from "../../../engine/readback.ts";
import { WAREHOUSE } from "../../../envs/warehouse/env.ts";
import { DIALS_DEFAULTS } from "../../../algorithms/dials/config.ts";
import { createPpoGsTrainer } from "../../../algorithms/dials/gs.ts";
import {
  PPO_FIELDS,
  ppoAdvStats,
  ppoGatherLoss,
  ppoGatherNet,
  ppoLoss,
  ppoShuffle,
} from "../../../algorithms/ppo/learner.ts";
import {
  gaeReference,
  normaliseAdvantages,
  type PpoLossInput,
  ppoLossReference,
} from "../../../algorithms/ppo/reference.ts";
import { ppoAct, ppoGae, ppoStoreState } from "../../../algorithms/ppo/rollout.ts";
import { RNG_PURPOSE, rngCategoricalLogits } from "../../../engine/rng.ts";
import {
  AGENT_COUNTS,
  assertAllClose,
  assertExact,
  finiteDiff,
  gpuTest,
  seeded,
} from "../../_testing.ts";

/** A minibatch whose ratios straddle both clip bounds and whose values straddle the value clip. */
function lossCase(seed: number, rows: number, k: number, clip: number): PpoLossInput {
  const r = seeded(seed);
  const logits = Array.from({ length: rows }, () => Array.from(r.f32(k, -2, 2)));
  const actions = Array.from(r.u32(rows, k));
  const oldLogp = actions.map((a, i) => {
    const l = logits[i], m = Math.max(...l);
    const lse = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0));
    return l[a] - lse + r.rng.uniform(-0.4, 0.4); // ratio in [e^-0.4, e^0.4]
  });
  const oldValues = Array.from(r.f32(rows, -1, 1));
  return {
    logits,
    values: oldValues.map((v) => v + r.rng.uniform(-0.3, 0.3)),
    actions,
    oldLogp,
    adv: Array.from(r.f32(rows, -2, 2)),
    returns: Array.from(r.f32(rows, -1.5, 1.5)),
    oldValues,
    clip,
    valueCoef: 1,
    entropyCoef: 0.01,
  };
}

Deno.test("ppoLossReference() gradient matches central finite differences", () => {
  for (const [seed, clip] of [[1, 0.1], [2, 0.2], [3, 1e-5]] as const) {
    const c = lossCase(seed, 9, 5, clip);
    const K = 5, R = 9;
    const flat = [...c.logits.flat(), ...c.values];
    const f = (x: Float64Array) =>
      ppoLossReference({
        ...c,
        logits: Array.from({ length: R }, (_, i) => Array.from(x.subarray(i * K, i * K + K))),
        values: Array.from(x.subarray(R * K)),
      }).loss;
    const fd = finiteDiff(f, flat, 1e-7);
    const ref = ppoLossReference(c);
    const got = [...ref.dLogits.flat(), ...ref.dValues];
    assertAllClose(Float64Array.from(got), fd, { atol: 1e-6, rtol: 1e-5 });
    assert(ref.clipFraction > 0 || clip > 0.15, "the case exercises the clipped branch");
  }
});

Deno.test("gaeReference() equals the discounted sum of TD errors cut at dones and segments", () => {
  const r = seeded(4), T = 12, horizon = 4;
  const rewards = r.f32(T),
    values = r.f32(T + 1),
    dones = r.u32(T, 4).map((d) => (d === 0 ? 1 : 0));
  const gamma = 0.9, lambda = 0.8;
  const { adv, ret } = gaeReference({ rewards, values, dones, gamma, lambda, horizon });
  for (let t = 0; t < T; t++) {
    let s = 0, w = 1;
    for (let k = t; k < T; k++) {
      const cont = 1 - dones[k];
      s += w * (rewards[k] + gamma * values[k + 1] * cont - values[k]);
      if (cont === 0 || (k + 1) % horizon === 0) break;
      w *= gamma * lambda;
    }
    assert(Math.abs(adv[t] - s) < 1e-6, `A_${t}: ${adv[t]} vs ${s}`);
    assert(Math.abs(ret[t] - (s + values[t])) < 1e-6);
  }
});

async function gaeCase(engine: Engine, N: number) {
  const E = 13, T = 12, horizon = 4, gamma = 0.99, lambda = 0.95;
  const r = seeded(10 + N);
  const rew = r.f32(T * N * E), val = r.f32((T + 1) * N * E);
  const done = r.u32(T * E, 5).map((d) => (d === 0 ? 1 : 0));
  const t = (dtype: "f32", data: Float32Array, shape: number[], label: string) =>
    engine.tensor({ dtype, shape, label, data });
  const rewIn = t("f32", rew, [T, N, E], "t.rew"), valIn = t("f32", val, [T + 1, N, E], "t.val");
  const doneIn = t("f32", Float32Array.from(done), [T, E], "t.done");
  const advStore = engine.tensor({ dtype: "f32", shape: [T, N, E], label: "t.adv" });
  const retStore = engine.tensor({ dtype: "f32", shape: [T, N, E], label: "t.ret" });
  const k = await compileKernel(engine, ppoGae);
  const d = k.bind({ rewIn, doneIn, valIn, advStore, retStore }, {
    numAgents: N,
    numEnvs: E,
    obsDim: 1,
    numActions: 2,
    hidden: 0,
    seqLen: 1,
    slot: 0,
    sample: 0,
    greedy: 0,
    store: 0,
    which: 0,
    seed: 0,
    purpose: 0,
    steps: T,
    horizon,
    gamma,
    lambda,
    totalSteps: 1,
    lr0: 0,
    lrEnd: 0,
    clip0: 0,
    clipEnd: 0,
    envsPerSeed: E,
    seeds: 1,
    seedMix: 0,
  });
  const enc = engine.encoder("t");
  d.encode(enc);
  engine.submit(enc);
  const [adv, ret] = await readTensors(engine, [advStore, retStore] as const);
  const wantA = new Float32Array(T * N * E), wantR = new Float32Array(T * N * E);
  for (let a = 0; a < N; a++) {
    for (let e = 0; e < E; e++) {
      const at = (s: number) => s * N * E + a * E + e;
      const g = gaeReference({
        rewards: Array.from({ length: T }, (_, s) => rew[at(s)]),
        values: Array.from({ length: T + 1 }, (_, s) => val[at(s)]),
        dones: Array.from({ length: T }, (_, s) => done[s * E + e]),
        gamma,
        lambda,
        horizon,
      });
      g.adv.forEach((v, s) => (wantA[at(s)] = v));
      g.ret.forEach((v, s) => (wantR[at(s)] = v));
    }
  }
  assertAllClose(adv, wantA, { atol: 2e-6, rtol: 1e-5 });
  assertAllClose(ret, wantR, { atol: 2e-6, rtol: 1e-5 });
}

for (const N of AGENT_COUNTS) {
  gpuTest(`ppoGae() matches gaeReference() for ${N} agents × 13 envs`, (e) => gaeCase(e, N));
}

const UPDATE_BASE = {
  numEnvs: 1,
  obsDim: 1,
  hidden: 0,
  seqLen: 1,
  steps: 1,
  epochs: 1,
  epoch: 0,
  mb: 0,
  advance: 0,
  seed: 0,
  purpose: 0,
  valueCoef: 1,
  entropyCoef: 0.01,
  agent0: 0,
  seeds: 1,
};

async function lossGpuCase(engine: Engine, N: number) {
  const R = 37, K = 5;
  const clips = [0.1, 0.2, 1e-5, 0.15, 0.1, 0.3, 0.05, 0.12].slice(0, N);
  const cases = clips.map((clip, a) => lossCase(100 * N + a, R, K, clip));
  const head = new Float32Array(N * R * (K + 1)), row = new Float32Array(N * R * 4);
  const act = new Uint32Array(N * R);
  cases.forEach((c, a) => {
    for (let r = 0; r < R; r++) {
      const i = a * R + r;
      c.logits[r].forEach((v, j) => (head[i * (K + 1) + j] = v));
      head[i * (K + 1) + K] = c.values[r];
      row.set([c.oldLogp[r], c.adv[r], c.returns[r], c.oldValues[r]], i * 4);
      act[i] = c.actions[r];
    }
  });
  // Round the inputs to f32 in the reference too.
  const f = (x: number) => Math.fround(x);
  const refs = cases.map((c, a) =>
    ppoLossReference({
      ...c,
      logits: c.logits.map((l) => l.map(f)),
      values: c.values.map(f),
      oldLogp: c.oldLogp.map(f),
      adv: c.adv.map(f),
      returns: c.returns.map(f),
      oldValues: c.oldValues.map(f),
      clip: f(clips[a]),
    })
  );
  const t = <D extends "f32" | "u32">(dtype: D, data: Float32Array | Uint32Array, label: string) =>
    engine.tensor({ dtype, shape: [data.length], label, data: data as never });
  const headT = t("f32", head, "t.head"), mbRowIn = t("f32", row, "t.row");
  const mbActIn = t("u32", act, "t.act"), clipSched = t("f32", Float32Array.from(clips), "t.clip");
  const advStat = engine.tensor({ dtype: "f32", shape: [N, 2], label: "t.advStat" });
  const dHead = engine.tensor({ dtype: "f32", shape: [N, R, K + 1], label: "t.dHead" });
  const terms = engine.tensor({ dtype: "f32", shape: [N, R, PPO_FIELDS], label: "t.terms" });
  const p = { ...UPDATE_BASE, numAgents: N, numActions: K, seqPerBatch: R, storeAgents: N };
  const [ks, kl] = await Promise.all([
    compileKernel(engine, ppoAdvStats),
    compileKernel(engine, ppoLoss),
  ]);
  const enc = engine.encoder("t");
  ks.bind({ mbRowIn, advStat }, p).encode(enc);
  kl.bind({
    head: headT,
    mbActIn,
    mbRowIn,
    advStatIn: advStat,
    clipSched,
    dHead,
    terms,
  }, p).encode(enc);
  engine.submit(enc);
  const [dh, tm] = await readTensors(engine, [dHead, terms] as const);
  const wantD = new Float32Array(N * R * (K + 1));
  const wantMeans: number[] = [], gotMeans: number[] = [];
  refs.forEach((ref, a) => {
    for (let r = 0; r < R; r++) {
      const i = a * R + r;
      ref.dLogits[r].forEach((v, j) => (wantD[i * (K + 1) + j] = v));
      wantD[i * (K + 1) + K] = ref.dValues[r];
    }
    wantMeans.push(ref.policyLoss, ref.valueLoss, ref.entropy, ref.clipFraction);
    for (let fld = 0; fld < PPO_FIELDS; fld++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += tm[(a * R + r) * PPO_FIELDS + fld];
      gotMeans.push(s / R);
    }
  });
  assertAllClose(dh, wantD, { atol: 1e-6, rtol: 1e-3 });
  assertAllClose(Float64Array.from(gotMeans), Float64Array.from(wantMeans), {
    atol: 1e-5,
    rtol: 1e-3,
  });
  assert(normaliseAdvantages(cases[0].adv).length === R);
}

for (const N of AGENT_COUNTS) {
  gpuTest(
    `ppoLoss() matches ppoLossReference() for ${N} agents × 37 rows`,
    (e) => lossGpuCase(e, N),
  );
}

gpuTest(
  "ppoShuffle() draws permutations and ppoGatherNet() / ppoGatherLoss() copy the rows they name",
  async (engine) => {
    const N = 3, E = 5, T = 6, L = 3, D = 4, H = 2, epochs = 2, mbs = 2;
    const S = (T / L) * E, Bs = S / mbs, R = L * Bs;
    const r = seeded(21);
    const rows = T * N * E;
    const store = {
      obsStore: r.f32(rows * D),
      actStore: r.u32(rows, 7),
      logpStore: r.f32(rows),
      advStore: r.f32(rows),
      retStore: r.f32(rows),
      valStore: r.f32((T + 1) * N * E),
      doneStore: Float32Array.from(r.u32(T * E, 3).map((d) => (d === 0 ? 1 : 0))),
      hStore: r.f32((T / L) * N * E * H),
    };
    const tensors: Record<string, ReturnType<Engine["tensor"]>> = {};
    for (const [k, v] of Object.entries(store)) {
      tensors[k] = engine.tensor({
        dtype: v instanceof Uint32Array ? "u32" : "f32",
        shape: [v.length],
        label: `t.${k}`,
        data: v as never,
      });
    }
    const counter = engine.tensor({ dtype: "u32", shape: [4], label: "t.counter" });
    const perm = engine.tensor({ dtype: "u32", shape: [N, epochs, S], label: "t.perm" });
    const f = (n: number, name: string) => engine.tensor({ dtype: "f32", shape: [n], label: name });
    const mb = {
      mbObs: f(N * R * D, "t.mbObs"),
      mbAct: engine.tensor({ dtype: "u32", shape: [N * R], label: "t.mbAct" }),
      mbRow: f(N * R * 4, "t.mbRow"),
      mbReset: f(N * R, "t.mbReset"),
      mbH0: f(N * Bs * H, "t.mbH0"),
    };
    const p = {
      ...UPDATE_BASE,
      numAgents: N,
      numEnvs: E,
      obsDim: D,
      numActions: 7,
      hidden: H,
      seqLen: L,
      steps: T,
      epochs,
      seqPerBatch: Bs,
      seed: 5,
      purpose: 9,
      storeAgents: N,
    };
    const [kShuf, kGatherNet, kGatherLoss] = await Promise.all([
      compileKernel(engine, ppoShuffle),
      compileKernel(engine, ppoGatherNet),
      compileKernel(engine, ppoGatherLoss),
    ]);
    const enc = engine.encoder("t");
    kShuf.bind({ counterIn: counter, perm }, p).encode(enc);
    engine.submit(enc);
    const permHost = await readTensor(engine, perm);
    for (let i = 0; i < N * epochs; i++) {
      const row = [...permHost.subarray(i * S, (i + 1) * S)].sort((x, y) => x - y);
      assertEquals(row, [...Array(S).keys()]);
    }
    for (const [ep, m] of [[1, 1], [0, 0]]) {
      const enc2 = engine.encoder("t");
      const { obsStore, doneStore, hStore, ...lossStore } = tensors;
      const { mbObs, mbReset, mbH0, ...lossMb } = mb;
      kGatherNet.bind(
        { permIn: perm, obsStore, doneStore, hStore, mbObs, mbReset, mbH0 } as never,
        { ...p, epoch: ep, mb: m },
      ).encode(enc2);
      kGatherLoss.bind({ permIn: perm, ...lossStore, ...lossMb } as never, {
        ...p,
        epoch: ep,
        mb: m,
      })
        .encode(enc2);
      engine.submit(enc2);
      const [obs, act, rowF, reset, h0] = await readTensors(
        engine,
        [mb.mbObs, mb.mbAct, mb.mbRow, mb.mbReset, mb.mbH0] as const,
      );
      const want = { obs: new Float32Array(obs.length), act: new Uint32Array(act.length) };
      const wantRow = new Float32Array(rowF.length), wantReset = new Float32Array(reset.length);
      const wantH = new Float32Array(h0.length);
      for (let a = 0; a < N; a++) {
        for (let l = 0; l < L; l++) {
          for (let b = 0; b < Bs; b++) {
            const s = permHost[(a * epochs + ep) * S + m * Bs + b];
            const c = Math.floor(s / E), e = s % E, step = c * L + l;
            const src = step * N * E + a * E + e, i = a * R + l * Bs + b;
            want.obs.set(store.obsStore.subarray(src * D, src * D + D), i * D);
            want.act[i] = store.actStore[src];
            wantRow.set(
              [store.logpStore[src], store.advStore[src], store.retStore[src], store.valStore[src]],
              i * 4,
            );
            wantReset[i] = l > 0 ? store.doneStore[(step - 1) * E + e] : 0;
            if (l === 0) {
              const hs = (c * N * E + a * E + e) * H;
              wantH.set(store.hStore.subarray(hs, hs + H), (a * Bs + b) * H);
            }
          }
        }
      }
      assertExact(obs, want.obs);
      assertExact(act, want.act);
      assertExact(rowF, wantRow);
      assertExact(reset, wantReset);
      assertExact(h0, wantH);
    }
  },
);

gpuTest("PPO on the warehouse GS trains without readbacks inside run()", async (engine) => {
  const env = await WAREHOUSE.create(engine, WAREHOUSE.parseTask("warehouse-4")!, {
    numEnvs: 4,
    seed: 3,
  });
  const algo = { ...DIALS_DEFAULTS, hidden: 16, hidden2: 8, numMinibatches: 2 };
  const trainer = await createPpoGsTrainer(engine, env, { algo, seed: 3, totalSteps: 10_000 });
  const before = Float32Array.from(await readTensor(engine, trainer.agents.net.params));
  const reads = engine.stats.reads;
  trainer.run(3);
  assertEquals(engine.stats.reads, reads, "run() read nothing back");
  const m = await trainer.readMetrics();
  assertEquals(m.envSteps, 3 * 4 * 8);
  assertEquals(m.scalars.minibatchSteps, 3 * 3 * 2);
  for (const k of ["policyLoss", "valueLoss", "entropy"]) assert(Number.isFinite(m.scalars[k]), k);
  assert(m.scalars.entropy > 1 && m.scalars.entropy <= Math.log(4) + 1e-5, "entropy of 4 actions");
  const after = await readTensor(engine, trainer.agents.net.params);
  let changed = 0;
  for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed++;
  assert(changed > after.length / 2, `Adam moved the weights (${changed} of ${after.length})`);
  const counter = await readTensor(engine, trainer.agents.rollout.counter);
  assertEquals([...counter.subarray(0, 2)], [3 * 8, 3]);
});

gpuTest(
  "ppoAct() draws Gumbel-max actions keyed by the step counter and stores the slot, ppoStoreState() the GRU state",
  async (engine) => {
    const N = 3, E = 7, K = 5, D = 3, H = 2, L = 2, T = 4, slot = 2, step = 41;
    const r = seeded(31);
    const head = r.f32(N * E * (K + 1), -2, 2), obs = r.f32(N * E * D), h = r.f32(N * E * H);
    const t = (data: Float32Array | Uint32Array, label: string, dtype: "f32" | "u32" = "f32") =>
      engine.tensor({ dtype, shape: [data.length], label, data: data as never });
    const z = (n: number, label: string, dtype: "f32" | "u32" = "f32") =>
      engine.tensor({ dtype, shape: [n], label });
    const tensors = {
      obs: t(obs, "t.obs"),
      head: t(head, "t.head"),
      counterIn: t(Uint32Array.from([step, 0, 0, 0]), "t.counter", "u32"),
      actions: z(N * E, "t.actions", "u32"),
      obsStore: z(T * N * E * D, "t.obsStore"),
      valStore: z((T + 1) * N * E, "t.valStore"),
      actStore: z(T * N * E, "t.actStore", "u32"),
      logpStore: z(T * N * E, "t.logpStore"),
    };
    const state = { hIn: t(h, "t.h"), hStore: z((T / L) * N * E * H, "t.hStore") };
    const [k, kh] = await Promise.all([
      compileKernel(engine, ppoAct),
      compileKernel(engine, ppoStoreState),
    ]);
    const enc = engine.encoder("t");
    const params = {
      numAgents: N,
      numEnvs: E,
      obsDim: D,
      numActions: K,
      hidden: H,
      seqLen: L,
      slot,
      sample: 1,
      greedy: 0,
      store: 1,
      which: 0,
      seed: 9,
      purpose: RNG_PURPOSE.action,
      steps: T,
      horizon: T,
      gamma: 0.99,
      lambda: 0.95,
      totalSteps: 1,
      lr0: 0,
      lrEnd: 0,
      clip0: 0,
      clipEnd: 0,
      envsPerSeed: E,
      seeds: 1,
      seedMix: 0,
    };
    kh.bind(state, params).encode(enc);
    k.bind(tensors, params).encode(enc);
    engine.submit(enc);
    const [act, actStore, logp, obsStore, valStore, hStore] = await readTensors(
      engine,
      [
        tensors.actions,
        tensors.actStore,
        tensors.logpStore,
        tensors.obsStore,
        tensors.valStore,
        state.hStore,
      ] as const,
    );
    const rows = N * E, wantLogp = new Float64Array(rows), gotLogp = new Float64Array(rows);
    for (let a = 0; a < N; a++) {
      for (let e = 0; e < E; e++) {
        const row = a * E + e, logits = head.subarray(row * (K + 1), row * (K + 1) + K);
        const want = rngCategoricalLogits(9, RNG_PURPOSE.action, e, a, step, logits);
        assertEquals([act[row], actStore[slot * rows + row]], [want, want], `row ${row}`);
        const m = Math.max(...logits);
        const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
        wantLogp[row] = logits[want] - lse;
        gotLogp[row] = logp[slot * rows + row];
        assertEquals(valStore[slot * rows + row], head[row * (K + 1) + K]);
      }
    }
    assertAllClose(gotLogp, wantLogp, { atol: 1e-6, rtol: 1e-5 });
    assertExact(obsStore.subarray(slot * rows * D, (slot + 1) * rows * D), obs);
    assertExact(hStore.subarray((slot / L) * rows * H, (slot / L + 1) * rows * H), h);
    assertExact(hStore.subarray(0, (slot / L) * rows * H), new Float32Array((slot / L) * rows * H));
  },
);
