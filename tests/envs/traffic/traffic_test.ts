// Traffic grid (DIALS): GPU global and local simulators vs the CPU reference (random states,
// rollouts with auto-reset), LS replay of GS influence sources (CPU and GPU), the dataset recorder,
// the signal controllers, rule sanity (spec B12) and return statistics, registry parse.
import type { Engine } from "../../../engine/device.ts";
import { readTensors } from "../../../engine/readback.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { createTrafficEnv, TRAFFIC, type TrafficEnv } from "../../../envs/traffic/env.ts";
import { trafficSpec, unpackTrafficGs } from "../../../envs/traffic/state.ts";
import {
  createTrafficController,
  TRAFFIC_ACTUATED,
  TRAFFIC_FIXED_TIME,
  trafficControllerReference,
} from "../../../envs/traffic/baseline.ts";
import { createTrafficInfluenceRecorder } from "../../../envs/traffic/influence.ts";
import { packBits, unpackBits } from "../../../envs/bits.ts";
import {
  createTrafficLocalEnv,
  TRAFFIC_LOCAL,
  type TrafficLocalEnv,
  unpackTrafficLs,
} from "../../../envs/traffic/local.ts";
import {
  type TrafficConfig,
  TrafficGlobalReference,
  type TrafficGsState,
  TrafficLocalReference,
  type TrafficLsState,
  trafficMotionReference,
  trafficSampleSourcesReference,
  type TrafficStepOutput,
  type Vehicle,
} from "../../../envs/traffic/reference.ts";
import { assertAllClose, assertExact, gpuTest } from "../../_testing.ts";
import { readStepOutputs, resetEnv, stepEnv, type StepOutputs } from "../_env_testing.ts";

/** Busy rules for tests: short episodes (auto-resets), dense arrivals, frequent slowdowns. */
function busyConfig(gridSize: number, maxSteps = 15): TrafficConfig {
  return { gridSize, maxSteps, pSlow: 0.25, pArrive: 0.45, persistSignals: false };
}

function randomActions(rng: HostRng, agents: number, numEnvs: number, pSwitch = 0.2): number[][] {
  return Array.from(
    { length: agents },
    () => Array.from({ length: numEnvs }, () => (rng.unit() < pSwitch ? 1 : 0)),
  );
}

function randomLane(rng: HostRng): Vehicle[] {
  const lane: Vehicle[] = [];
  let pos = 43 - rng.below(10);
  while (pos >= 0 && rng.unit() < 0.8) {
    lane.push({ pos, speed: rng.below(5) });
    pos -= 3 + rng.below(6);
  }
  return lane;
}

function randomSignal(rng: HostRng) {
  const yellow = rng.below(3) === 0 ? 1 : 0;
  return { dir: rng.below(2), yellow, timer: yellow ? rng.below(3) : rng.below(5) };
}

function randomGsStates(rng: HostRng, cfg: TrafficConfig, numEnvs: number): TrafficGsState[] {
  const A = cfg.gridSize ** 2;
  return Array.from({ length: numEnvs }, () => {
    const t = rng.below(3) === 0 ? cfg.maxSteps - 1 : rng.below(cfg.maxSteps);
    const episode = rng.below(50), globalStep = rng.below(100_000);
    return {
      junctions: Array.from(
        { length: A },
        () => ({ signal: randomSignal(rng), t, episode, globalStep }),
      ),
      lanes: Array.from({ length: 4 * A }, () => randomLane(rng)),
      backlog: Array.from({ length: 4 * A }, () => rng.below(3)),
    };
  });
}

function randomLsRegions(
  rng: HostRng,
  cfg: TrafficConfig,
  agents: number,
  numEnvs: number,
): TrafficLsState[][] {
  const envT = Array.from({ length: numEnvs }, () => ({
    t: rng.below(3) === 0 ? cfg.maxSteps - 1 : rng.below(cfg.maxSteps),
    episode: rng.below(50),
    globalStep: rng.below(100_000),
  }));
  return Array.from({ length: agents }, () =>
    envT.map((c) => ({
      junction: { signal: randomSignal(rng), ...c },
      lanes: [0, 1, 2, 3].map(() => randomLane(rng)),
    })));
}

function randomBits(rng: HostRng, agents: number, numEnvs: number, p = 0.5): number[][][] {
  return Array.from(
    { length: agents },
    () => Array.from({ length: numEnvs }, () => [0, 1, 2, 3].map(() => (rng.unit() < p ? 1 : 0))),
  );
}

const flat = (x: unknown[]): number[] => x.flat(Infinity as 1) as number[];

/** Compares GPU outputs with a reference step (terminalObs only where the episode ended). */
function assertOutputs(
  got: StepOutputs<TrafficEnv["buffers"]>,
  want: TrafficStepOutput,
  what: string,
): void {
  assertExact(got.obs, flat(want.obs), `${what} obs`);
  assertAllClose(got.reward, flat(want.reward), { atol: 1e-6, rtol: 0 }, `${what} reward`);
  assertExact(got.terminated, want.terminated, `${what} terminated`);
  assertExact(got.truncated, want.truncated, `${what} truncated`);
  assertExact(got.episodeStep, want.episodeStep, `${what} episodeStep`);
  want.terminalObs.forEach((row, k) =>
    row.forEach((o, e) => {
      if (!o) return;
      const i = (k * row.length + e) * 40;
      assertExact(got.terminalObs.subarray(i, i + 40), o, `${what} terminalObs[${k}, ${e}]`);
    })
  );
}

function sortedJson(x: unknown): string {
  return JSON.stringify(x);
}

async function readGs(engine: Engine, env: TrafficEnv) {
  const { cells, backlog, junctions, sources, resetSources, ...out } = await readStepOutputs(
    engine,
    env.buffers,
    {
      cells: env.cells,
      backlog: env.backlog,
      junctions: env.junctions,
      sources: env.sources,
      resetSources: env.resetSources,
    },
  );
  return {
    states: unpackTrafficGs(env.config, { cells, backlog, junctions }),
    out,
    sources,
    resetSources,
  };
}

async function readLs(engine: Engine, env: TrafficLocalEnv) {
  const { cells, junctions, ...out } = await readStepOutputs(engine, env.buffers, {
    cells: env.cells,
    junctions: env.junctions,
  });
  return { regions: unpackTrafficLs(env.numAgents, { cells, junctions }), out };
}

function assertGsMatches(
  got: Awaited<ReturnType<typeof readGs>>,
  ref: TrafficGlobalReference,
  want: TrafficStepOutput,
  what: string,
): void {
  const g = sortedJson(got.states), w = sortedJson(ref.states);
  if (g !== w) {
    const e = got.states.findIndex((s, i) => sortedJson(s) !== sortedJson(ref.states[i]));
    throw new Error(
      `${what}: state of env ${e} differs:\n got ${sortedJson(got.states[e])}\nwant ${
        sortedJson(ref.states[e])
      }`,
    );
  }
  assertOutputs(got.out, want, what);
  assertExact(got.sources, flat(want.sources), `${what} sources`);
  assertExact(got.resetSources, flat(want.resetSources), `${what} resetSources`);
}

gpuTest(
  "trafficEnv matches the CPU reference on rollouts with auto-reset (1, 4 and 9 agents)",
  async (engine) => {
    const cases = [[2, 7, 40, 0], [3, 3, 20, 0], [2, 3, 35, 1], [1, 5, 30, 0]];
    for (const [gridSize, numEnvs, steps, persist] of cases) {
      const cfg = { ...busyConfig(gridSize), persistSignals: persist === 1 };
      const env = await createTrafficEnv(engine, trafficSpec(gridSize, cfg), { numEnvs, seed: 11 });
      const ref = new TrafficGlobalReference(cfg, numEnvs, 11);
      const rng = new HostRng(5, RNG_PURPOSE.test);
      const A = gridSize ** 2;
      resetEnv(engine, env);
      assertGsMatches(await readGs(engine, env), ref, ref.reset(), `N=${gridSize} reset`);
      for (let t = 0; t < steps; t++) {
        const actions = randomActions(rng, A, numEnvs, persist ? 0.5 : 0.2);
        stepEnv(engine, env, actions.flat());
        const want = ref.step(actions);
        assertGsMatches(await readGs(engine, env), ref, want, `N=${gridSize} step ${t}`);
      }
      // Several steps in one submit (same actions; nothing is written between steps).
      const actions = randomActions(rng, A, numEnvs, 0.3);
      stepEnv(engine, env, actions.flat(), (enc) => {
        for (let t = 0; t < 18; t++) env.encodeStep(enc);
      });
      let want = ref.step(actions);
      for (let t = 0; t < 17; t++) want = ref.step(actions);
      assertGsMatches(
        await readGs(engine, env),
        ref,
        want,
        `N=${gridSize} after one submit of 18 steps`,
      );
    }
  },
);

gpuTest(
  "trafficEnv matches the CPU reference from random states (4 and 25 agents)",
  async (engine) => {
    for (const [gridSize, numEnvs, rounds] of [[2, 24, 6], [5, 4, 3]]) {
      const cfg = busyConfig(gridSize, 30);
      const env = await createTrafficEnv(engine, trafficSpec(gridSize, cfg), { numEnvs, seed: 3 });
      const ref = new TrafficGlobalReference(cfg, numEnvs, 3);
      const rng = new HostRng(17 + gridSize, RNG_PURPOSE.test);
      for (let round = 0; round < rounds; round++) {
        const states = randomGsStates(rng, cfg, numEnvs);
        ref.states = structuredClone(states);
        env.writeStates(states);
        const actions = randomActions(rng, gridSize ** 2, numEnvs, 0.4);
        stepEnv(engine, env, actions.flat());
        const want = ref.step(actions);
        assertGsMatches(await readGs(engine, env), ref, want, `N=${gridSize} round ${round}`);
      }
    }
  },
);

function assertLsMatches(
  got: Awaited<ReturnType<typeof readLs>>,
  ref: TrafficLocalReference,
  want: TrafficStepOutput,
  what: string,
): void {
  if (sortedJson(got.regions) !== sortedJson(ref.regions)) {
    throw new Error(
      `${what}: states differ:\n got ${sortedJson(got.regions)}\nwant ${sortedJson(ref.regions)}`,
    );
  }
  assertOutputs(got.out, want, what);
}

gpuTest(
  "trafficLocalEnv matches the CPU reference on random states and rollouts (1, 3, 8 agents)",
  async (engine) => {
    for (const agents of [1, 3, 8]) {
      const numEnvs = 5;
      const cfg = busyConfig(2, 12);
      const spec = { ...trafficSpec(2, cfg), numAgents: agents };
      const env = await createTrafficLocalEnv(engine, spec, { numEnvs, seed: 21 });
      const ref = new TrafficLocalReference(cfg, agents, numEnvs, 21);
      const rng = new HostRng(agents, RNG_PURPOSE.test);
      let reset = randomBits(rng, agents, numEnvs, 0.3);
      engine.write(env.resetSources, flat(reset));
      resetEnv(engine, env);
      assertLsMatches(await readLs(engine, env), ref, ref.reset(reset), `${agents} agents reset`);
      for (let t = 0; t < 30; t++) {
        if (t % 10 === 9) {
          const regions = randomLsRegions(rng, cfg, agents, numEnvs);
          ref.regions = structuredClone(regions);
          env.writeStates(regions);
        }
        const actions = randomActions(rng, agents, numEnvs, 0.3);
        const sources = randomBits(rng, agents, numEnvs, 0.4);
        reset = randomBits(rng, agents, numEnvs, 0.3);
        engine.write(env.sources, flat(sources));
        engine.write(env.resetSources, flat(reset));
        stepEnv(engine, env, actions.flat());
        const want = ref.step(actions, sources, reset);
        assertLsMatches(await readLs(engine, env), ref, want, `${agents} agents step ${t}`);
      }
    }
  },
);

Deno.test("TrafficLocalReference replays a GS rollout's sources exactly (CPU, 9 agents)", () => {
  const cfg = busyConfig(3, 25), numEnvs = 4, A = 9, seed = 77;
  const gs = new TrafficGlobalReference(cfg, numEnvs, seed);
  const ls = new TrafficLocalReference(cfg, A, numEnvs, seed);
  const rng = new HostRng(8, RNG_PURPOSE.test);
  let g = gs.reset();
  let l = ls.reset(g.resetSources);
  assertExact(flat(l.obs), flat(g.obs), "reset obs");
  let entries = 0, resets = 0;
  for (let t = 0; t < 120; t++) {
    const actions = randomActions(rng, A, numEnvs, 0.15);
    g = gs.step(actions);
    l = ls.step(actions, g.sources, g.resetSources);
    entries += flat(g.sources).reduce((s, x) => s + x, 0);
    resets += g.truncated.reduce((s, x) => s + x, 0);
    assertExact(flat(l.obs), flat(g.obs), `step ${t} obs`);
    assertExact(flat(l.reward), flat(g.reward), `step ${t} reward`);
    assertExact(l.truncated, g.truncated, `step ${t} truncated`);
    assertExact(
      flat(l.terminalObs.map((r) => r.map((o) => o ?? []))),
      flat(g.terminalObs.map((r) => r.map((o) => o ?? []))),
      `step ${t} terminalObs`,
    );
    for (let k = 0; k < A; k++) {
      for (let e = 0; e < numEnvs; e++) {
        const want = gs.states[e].lanes.slice(4 * k, 4 * k + 4);
        if (sortedJson(ls.regions[k][e].lanes) !== sortedJson(want)) {
          throw new Error(`step ${t}: lanes of agent ${k} env ${e} differ`);
        }
      }
    }
  }
  if (entries < 500 || resets < 4) {
    throw new Error(`too little traffic: ${entries} entries, ${resets} resets`);
  }
});

gpuTest(
  "trafficLocalEnv replays trafficEnv's sources exactly on the GPU (4 agents)",
  async (engine) => {
    const cfg = busyConfig(2, 20), numEnvs = 6, A = 4, seed = 5;
    const gs = await createTrafficEnv(engine, trafficSpec(2, cfg), { numEnvs, seed });
    const ls = await createTrafficLocalEnv(engine, trafficSpec(2, cfg), { numEnvs, seed });
    const rng = new HostRng(9, RNG_PURPOSE.test);
    const enc = engine.encoder();
    gs.encodeReset(enc);
    ls.encodeReplay(enc, gs);
    ls.encodeReset(enc);
    engine.submit(enc);
    for (let t = 0; t <= 45; t++) {
      const [go, gr, gt, lo, lr, lt] = await readTensors(
        engine,
        [
          gs.buffers.obs,
          gs.buffers.reward,
          gs.buffers.truncated,
          ls.buffers.obs,
          ls.buffers.reward,
          ls.buffers.truncated,
        ] as const,
      );
      assertExact(lo, go, `step ${t} obs`);
      assertExact(lr, gr, `step ${t} reward`);
      assertExact(lt, gt, `step ${t} truncated`);
      const actions = randomActions(rng, A, numEnvs, 0.2).flat();
      engine.write(ls.buffers.actions, actions);
      stepEnv(engine, gs, actions, (enc) => {
        gs.encodeStep(enc);
        ls.encodeReplay(enc, gs);
        ls.encodeStep(enc);
      });
    }
  },
);

gpuTest(
  "createTrafficInfluenceRecorder() stores post-step d-sets and sources per agent",
  async (engine) => {
    const cfg = busyConfig(2, 6), numEnvs = 3, A = 4;
    const gs = await createTrafficEnv(engine, trafficSpec(2, cfg), { numEnvs, seed: 2 });
    const rec = await createTrafficInfluenceRecorder(engine, gs, { datasetSize: 12 });
    const ref = new TrafficGlobalReference(cfg, numEnvs, 2);
    ref.reset();
    const rng = new HostRng(4, RNG_PURPOSE.test);
    const want: { d: number[]; u: number[] }[][] = []; // [step][agent·numEnvs + env]
    resetEnv(engine, gs);
    for (let t = 0; t < 7; t++) {
      const actions = randomActions(rng, A, numEnvs);
      stepEnv(engine, gs, actions.flat(), (enc) => {
        gs.encodeStep(enc);
        rec.encode(enc);
      });
      const o = ref.step(actions);
      want.push(
        o.obs.flatMap((row, k) =>
          row.map((obs, e) => ({
            d: (o.terminalObs[k][e] ?? obs).slice(0, 36),
            u: o.sources[k][e],
          }))
        ),
      );
    }
    const [packed, targets, cursor] = await readTensors(
      engine,
      [rec.dset, rec.targets, rec.cursor] as const,
    );
    assertExact(rec.dset.shape, [A, 12, 2], "dset shape (36 values in 2 words)");
    const dset = unpackBits(packed, 36);
    assertExact(cursor, [7], "cursor");
    if (rec.slots !== 4 || rec.capacity !== 12) {
      throw new Error(
        `slots ${rec.slots}, capacity ${rec.capacity}`,
      );
    }
    for (let k = 0; k < A; k++) {
      for (let slot = 0; slot < 4; slot++) {
        const step = slot < 3 ? slot + 4 : 3; // 7 steps in 4 slots: slots 0..2 hold steps 4..6
        for (let e = 0; e < numEnvs; e++) {
          const row = k * rec.capacity + slot * numEnvs + e;
          const w = want[step][k * numEnvs + e];
          assertExact(
            dset.subarray(row * 36, row * 36 + 36),
            w.d,
            `dset agent ${k} slot ${slot} env ${e}`,
          );
          assertExact(
            packed.subarray(row * 2, row * 2 + 2),
            packBits(w.d, 36),
            `packed dset agent ${k} slot ${slot} env ${e}`,
          );
          assertExact(
            targets.subarray(row * 4, row * 4 + 4),
            w.u,
            `targets agent ${k} slot ${slot} env ${e}`,
          );
        }
      }
    }
  },
);

Deno.test("TRAFFIC and TRAFFIC_LOCAL parse the DIALS scenario names", () => {
  for (
    const [name, side] of [["traffic-4", 2], ["traffic-25", 5], ["traffic-49", 7], [
      "traffic-100",
      10,
    ]] as const
  ) {
    const spec = TRAFFIC.parseTask(name);
    if (!spec) throw new Error(`${name} did not parse`);
    assertExact(
      [
        spec.numAgents,
        spec.obsShape[0],
        spec.numActions,
        spec.maxSteps,
        spec.config.gridSize as number,
      ],
      [side * side, 40, 2, 300, side],
      name,
    );
    if (spec.config.pArrive !== 0.1 || spec.config.pSlow !== 0.1 || spec.config.persistSignals) {
      throw new Error(`${name}: config ${JSON.stringify(spec.config)}`);
    }
    const local = TRAFFIC_LOCAL.parseTask(name.replace("traffic", "traffic-local"));
    if (local?.family !== "traffic-local" || local.numAgents !== side * side) {
      throw new Error(`${name}: local spec ${JSON.stringify(local)}`);
    }
  }
  for (const bad of ["traffic-5", "traffic-", "traffic-4x", "traffic-local-4", "lbf-4"]) {
    if (TRAFFIC.parseTask(bad) !== null) throw new Error(`${bad} parsed`);
  }
  if (TRAFFIC_LOCAL.parseTask("traffic-4") !== null) throw new Error("traffic-4 parsed as local");
});

Deno.test("trafficMotionReference() meets spec B12: 10-step traversal, 4/7 capacity, red holds", () => {
  const green = { green: true, slow: () => false };
  let lane: Vehicle[] = [{ pos: 1, speed: 4 }];
  let steps = 0;
  while (lane.length > 0 && lane[0].pos < 40) {
    lane = trafficMotionReference(lane, green).vehicles;
    steps++;
  }
  assertExact([steps, lane[0].pos], [10, 41], "free-flow traversal");
  // A platoon at speed 4 with spacing 7 keeps both (capacity 4/7 vehicle/step).
  lane = [39, 32, 25, 18, 11, 4].map((pos) => ({ pos, speed: 4 }));
  for (let t = 0; t < 2; t++) lane = trafficMotionReference(lane, green).vehicles;
  assertExact(
    lane.flatMap((v) => [v.pos, v.speed]),
    [40, 4, 33, 4, 26, 4, 19, 4, 12, 4],
    "platoon",
  );
  // A standing queue of 13 discharges at about 4/7: the 13th vehicle crosses by step 24.
  lane = Array.from({ length: 13 }, (_, i) => ({ pos: 39 - 3 * i, speed: 0 }));
  let t = 0;
  while (lane.some((v) => v.pos < 40)) {
    lane = trafficMotionReference(lane, green).vehicles;
    t++;
  }
  if (t > 24) throw new Error(`queue of 13 took ${t} steps to clear the stop line`);
  lane = [{ pos: 30, speed: 4 }, { pos: 24, speed: 4 }];
  for (let t = 0; t < 10; t++) {
    lane = trafficMotionReference(lane, { green: false, slow: () => false }).vehicles;
  }
  assertExact(lane.flatMap((v) => [v.pos, v.speed]), [39, 0, 36, 0], "queue at red");
});

Deno.test("TrafficGlobalReference: a never-switching signal stores the red approaches' arrivals", () => {
  // One intersection, N–S green for ever: W and E vehicles never pass; S and N flow freely.
  const cfg = { gridSize: 1, maxSteps: 300, pSlow: 0.1, pArrive: 0.1, persistSignals: false };
  const numEnvs = 16, ref = new TrafficGlobalReference(cfg, numEnvs, 4);
  ref.reset();
  const arrivals = [0, 0, 0, 0];
  for (let t = 0; t < 299; t++) {
    const out = ref.step([new Array<number>(numEnvs).fill(0)]);
    for (let e = 0; e < numEnvs; e++) {
      for (let a = 0; a < 4; a++) arrivals[a] += out.sources[0][e][a];
    }
  }
  const held = [0, 2].map((a) =>
    ref.states.reduce((s, st) => s + st.lanes[a].length + st.backlog[a], 0) / numEnvs
  );
  const flowing = [1, 3].map((a) =>
    ref.states.reduce((s, st) => s + st.lanes[a].length + st.backlog[a], 0) / numEnvs
  );
  // ≈ 0.1 vehicle/step kept per red approach (binomial sd ≈ 1.3 over 16 envs).
  for (const h of held) if (Math.abs(h - 29.9) > 5) throw new Error(`red approach holds ${h}`);
  for (const f of flowing) if (f > 5) throw new Error(`green approach holds ${f}`);
  if (ref.states.some((s) => s.lanes[0].some((v) => v.pos >= 40))) throw new Error("W passed red");
});

/** Runs a controller (or fixed actions) on the GPU for `steps` steps; returns action/reward history. */
async function gpuControllerRun(
  engine: Engine,
  env: TrafficEnv,
  encodeAct: (enc: ReturnType<Engine["encoder"]>) => void,
  steps: number,
): Promise<{ actions: Uint32Array; reward: Float32Array }> {
  const bytes = env.buffers.reward.byteLength;
  const actions = engine.tensor({
    dtype: "u32",
    shape: [steps, env.buffers.actions.size],
    label: "test.actions",
  });
  const reward = engine.tensor({
    dtype: "f32",
    shape: [steps, env.buffers.reward.size],
    label: "test.reward",
  });
  let enc = engine.encoder();
  env.encodeReset(enc);
  for (let t = 0; t < steps; t++) {
    encodeAct(enc);
    env.encodeStep(enc);
    enc.raw.copyBufferToBuffer(env.buffers.actions.buffer, 0, actions.buffer, t * bytes, bytes);
    enc.raw.copyBufferToBuffer(env.buffers.reward.buffer, 0, reward.buffer, t * bytes, bytes);
    if (t % 100 === 99) {
      engine.submit(enc);
      enc = engine.encoder();
    }
  }
  engine.submit(enc);
  const [a, r] = await readTensors(engine, [actions, reward] as const);
  return { actions: a, reward: r };
}

gpuTest(
  "trafficController runs the actuated and fixed-time programs like the reference; actuated beats random",
  async (engine) => {
    const N = 2, A = 4, numEnvs = 8, steps = 300, seed = 6;
    const cfg = { gridSize: N, maxSteps: 300, pSlow: 0.1, pArrive: 0.1, persistSignals: false };
    const env = await createTrafficEnv(engine, trafficSpec(N, cfg), { numEnvs, seed });
    const returns: Record<string, number> = {};
    for (
      const [name, timing] of [["actuated", TRAFFIC_ACTUATED], [
        "fixed-time",
        TRAFFIC_FIXED_TIME,
      ]] as const
    ) {
      const ctrl = await createTrafficController(engine, env, timing);
      const got = await gpuControllerRun(engine, env, (enc) => ctrl.encode(enc), steps);
      const ref = new TrafficGlobalReference(cfg, numEnvs, seed);
      let out = ref.reset();
      const counters = Array.from({ length: A * numEnvs }, () => [0, 0]);
      let total = 0;
      for (let t = 0; t < steps; t++) {
        const actions = out.obs.map((row, k) =>
          row.map((obs, e) =>
            trafficControllerReference(timing, {
              obs,
              episodeStep: out.episodeStep[e],
              counters: counters[k * numEnvs + e],
            })
          )
        );
        out = ref.step(actions);
        const i = t * A * numEnvs;
        assertExact(
          got.actions.subarray(i, i + A * numEnvs),
          actions.flat(),
          `${name} actions at ${t}`,
        );
        assertAllClose(got.reward.subarray(i, i + A * numEnvs), out.reward.flat(), {
          atol: 1e-6,
          rtol: 0,
        }, `${name} reward at ${t}`);
        total += out.reward.flat().reduce((s, r) => s + r, 0);
      }
      returns[name] = total / (A * numEnvs);
    }
    const ref = new TrafficGlobalReference(cfg, numEnvs, seed);
    ref.reset();
    const rng = new HostRng(1, RNG_PURPOSE.test);
    let total = 0;
    for (let t = 0; t < steps; t++) {
      total += ref.step(randomActions(rng, A, numEnvs, 0.5)).reward.flat().reduce(
        (s, r) => s + r,
        0,
      );
    }
    returns.random = total / (A * numEnvs);
    console.log(`traffic-4 mean return per agent-episode: ${JSON.stringify(returns)}`);
    if (!(returns.actuated > returns.random + 20 && returns.actuated > returns["fixed-time"])) {
      throw new Error(`returns out of the expected order: ${JSON.stringify(returns)}`);
    }
  },
);

gpuTest(
  "TrafficEnv.render() and TrafficLocalEnv.render() draw signals and vehicles",
  async (engine) => {
    const cfg = busyConfig(2, 50);
    const env = await createTrafficEnv(engine, trafficSpec(2, cfg), { numEnvs: 2, seed: 1 });
    const enc = engine.encoder();
    env.encodeReset(enc);
    for (let t = 0; t < 12; t++) env.encodeStep(enc);
    engine.submit(enc);
    const pic = await env.render(1);
    const [s] = (await env.readStates()).slice(1);
    const vehicles = s.lanes.reduce((n, l) => n + l.length, 0);
    const digits = (pic.match(/[0-4]/g) ?? []).length;
    if (
      !pic.startsWith("step 12 episode 0") || !pic.includes("junction 3 (row 1, col 1): N-S green")
    ) {
      throw new Error(`unexpected picture:\n${pic}`);
    }
    if (vehicles === 0 || digits < vehicles) {
      throw new Error(
        `${vehicles} vehicles, picture:\n${pic}`,
      );
    }
    const ls = await createTrafficLocalEnv(engine, trafficSpec(2, cfg), { numEnvs: 2, seed: 1 });
    resetEnv(engine, ls);
    const lpic = await ls.render(0);
    if (!lpic.includes("region 3 step 0: N-S green")) {
      throw new Error(
        `unexpected picture:\n${lpic}`,
      );
    }
  },
);

gpuTest(
  "TrafficLocalEnv.bindSourceSampler() draws the reference's Bernoulli sources",
  async (engine) => {
    const agents = 3, numEnvs = 7, seed = 13;
    const ls = await createTrafficLocalEnv(engine, { ...trafficSpec(2), numAgents: agents }, {
      numEnvs,
      seed,
    });
    const rng = new HostRng(31, RNG_PURPOSE.test);
    const probs = Array.from(
      { length: agents },
      () => Array.from({ length: numEnvs }, () => [0, 1, 2, 3].map(() => Math.fround(rng.unit()))),
    );
    const probsT = engine.tensor({
      dtype: "f32",
      shape: [agents, numEnvs, 4],
      label: "test.probs",
      data: flat(probs),
    });
    const sampler = ls.bindSourceSampler(probsT);
    const regions = randomLsRegions(rng, busyConfig(2), agents, numEnvs);
    ls.writeStates(regions);
    const enc = engine.encoder();
    sampler.encode(enc);
    engine.submit(enc);
    const [sources, resetSources] = await readTensors(
      engine,
      [ls.sources, ls.resetSources] as const,
    );
    const want = trafficSampleSourcesReference(seed, {
      probs,
      globalStep: regions.map((row) => row.map((r) => r.junction.globalStep)),
    });
    assertExact(sources, flat(want.sources), "sources");
    assertExact(resetSources, flat(want.resetSources), "resetSources");
    const ones = flat(want.sources).reduce((s, x) => s + x, 0);
    if (ones < 20 || ones > 64) throw new Error(`${ones} of 84 sources set with p ~ U(0, 1)`);
  },
);
