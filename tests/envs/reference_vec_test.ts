// ReferenceVec (envs/reference_vec.ts) at ragged sizes: the episode contract on a toy counter env
// whose every output is known in closed form, and the same outputs as a plain loop over the LBF
// and RWARE single-env references (CPU only).
import { HostRng, RNG_PURPOSE } from "../../engine/rng.ts";
import { lbfReference, lbfResetReference, lbfStepReference } from "../../envs/lbf/reference.ts";
import { parseLbfTask } from "../../envs/lbf/state.ts";
import { ReferenceVec, type SingleEnvReference } from "../../envs/reference_vec.ts";
import { parseRwareTask, rwareLayout } from "../../envs/rware/layout.ts";
import {
  rwareObsReference,
  rwareReference,
  rwareResetReference,
  rwareStepReference,
} from "../../envs/rware/reference.ts";
import { assertExact } from "../_testing.ts";
import { assertEq } from "./_env_testing.ts";

/** Toy env: counts steps; ends by the rules when an agent plays `stop`, by the limit at `limit`. */
interface Toy {
  env: number;
  episode: number;
  steps: number;
  total: number;
}

const STOP = 7;

function toyReference(numAgents: number, limit: number, selfReset = false) {
  const obs = (s: Toy) =>
    Array.from({ length: numAgents }, (_, a) => [s.env, s.episode, s.steps, s.total + a]);
  const next = (env: number, ended: Toy): Toy => ({
    env,
    episode: ended.episode + 1,
    steps: 0,
    total: ended.total,
  });
  const hooks: SingleEnvReference<Toy> = {
    numAgents,
    obsDim: 4,
    reset: (env) => ({ env, episode: 0, steps: 0, total: 0 }),
    next: selfReset ? undefined : next,
    step(env, s, actions) {
      const after = { ...s, steps: s.steps + 1, total: s.total + 1 };
      const terminated = actions.includes(STOP);
      const truncated = !terminated && after.steps >= limit;
      const rewards = actions.map((a, i) => a + 10 * i + 100 * env);
      if (selfReset && (terminated || truncated)) {
        return { state: next(env, after), rewards, terminated, truncated, finalObs: obs(after) };
      }
      return { state: after, rewards, terminated, truncated };
    },
    observe: obs,
    episodeStep: (s) => s.steps,
  };
  return hooks;
}

for (const selfReset of [false, true]) {
  Deno.test(`ReferenceVec steps ragged toy envs with auto-reset and terminal obs${selfReset ? " (reference resets by itself)" : ""}`, () => {
    for (const [numEnvs, numAgents, limit] of [[1, 1, 2], [3, 2, 3], [7, 3, 5], [13, 1, 4]]) {
      const vec = new ReferenceVec(toyReference(numAgents, limit, selfReset), {
        numEnvs,
        obsType: Float32Array,
      });
      const rng = new HostRng(numEnvs * 31 + numAgents, RNG_PURPOSE.test);
      // Host model of every env: (episode, steps, total).
      const model = Array.from({ length: numEnvs }, () => ({ episode: 0, steps: 0, total: 0 }));
      for (let t = 0; t < 40; t++) {
        const actions = Uint32Array.from(
          { length: numAgents * numEnvs },
          () => rng.unit() < 0.06 ? STOP : rng.below(5),
        );
        vec.step(actions);
        for (let e = 0; e < numEnvs; e++) {
          const m = model[e], what = `E=${numEnvs} A=${numAgents} t=${t} env ${e}`;
          const acts = Array.from({ length: numAgents }, (_, a) => actions[a * numEnvs + e]);
          const term = acts.includes(STOP), trunc = !term && m.steps + 1 >= limit;
          m.steps++;
          m.total++;
          for (let a = 0; a < numAgents; a++) {
            const row = (a * numEnvs + e) * 4;
            if (term || trunc) {
              assertExact(
                vec.terminalObs.subarray(row, row + 4),
                [e, m.episode, m.steps, m.total + a],
                `${what} terminalObs agent ${a}`,
              );
            }
          }
          if (term || trunc) {
            m.episode++;
            m.steps = 0;
          }
          for (let a = 0; a < numAgents; a++) {
            const row = (a * numEnvs + e) * 4;
            assertExact(
              vec.obs.subarray(row, row + 4),
              [e, m.episode, m.steps, m.total + a],
              `${what} obs agent ${a}`,
            );
            assertExact(
              [vec.reward[a * numEnvs + e]],
              [acts[a] + 10 * a + 100 * e],
              `${what} reward agent ${a}`,
            );
          }
          assertExact(
            [vec.terminated[e], vec.truncated[e], vec.episodeStep[e]],
            [term ? 1 : 0, trunc ? 1 : 0, m.steps],
            `${what} flags`,
          );
          assertEq(vec.states[e], { env: e, ...m }, `${what} state`);
          assertEq(vec.last[e]?.terminated, term, `${what} last`);
        }
      }
    }
  });
}

Deno.test("ReferenceVec reset, setStates and numEnvs checks", () => {
  const vec = new ReferenceVec(toyReference(2, 3), { numEnvs: 5, obsType: Uint8Array });
  vec.step(new Uint32Array(10).fill(STOP));
  assertExact(vec.terminated, [1, 1, 1, 1, 1], "all stopped");
  vec.reset();
  assertExact(
    [...vec.terminated, ...vec.truncated, ...vec.episodeStep],
    new Array(15).fill(0),
    "reset flags",
  );
  assertExact(vec.reward, new Array(10).fill(0), "reset reward");
  const states = Array.from({ length: 5 }, (_, e) => ({ env: e, episode: 4, steps: 2, total: 9 }));
  vec.setStates(states);
  states[0].steps = 99;
  assertExact(vec.episodeStep, [2, 2, 2, 2, 2], "episodeStep of the set states");
  assertExact(vec.obs.subarray(0, 4), [0, 4, 2, 9], "obs of the set states");
  for (
    const bad of [
      () => vec.setStates(states.slice(1)),
      () => new ReferenceVec(toyReference(1, 2), { numEnvs: 0, obsType: Float32Array }),
    ]
  ) {
    let threw = false;
    try {
      bad();
    } catch (e) {
      threw = e instanceof RangeError;
    }
    if (!threw) throw new Error("expected a RangeError");
  }
});

Deno.test("ReferenceVec over lbfReference() equals a plain loop of the LBF reference at ragged sizes", () => {
  const cfg = parseLbfTask("Foraging-8x8-2p-2f-coop")!;
  for (const numEnvs of [1, 3, 7]) {
    const seed = 11 + numEnvs, P = cfg.numPlayers, n = numEnvs;
    const vec = new ReferenceVec(lbfReference(cfg, seed), { numEnvs, obsType: Float32Array });
    let states = Array.from(
      { length: n },
      (_, env) => lbfResetReference(cfg, { seed, env, episode: 0, previous: null }),
    );
    const rng = new HostRng(seed, RNG_PURPOSE.test);
    let ends = 0;
    for (let t = 0; t < 3 * cfg.maxEpisodeSteps; t++) {
      const actions = Uint32Array.from({ length: P * n }, () => rng.below(6));
      vec.step(actions);
      states = states.map((s, e) => {
        const res = lbfStepReference(
          cfg,
          s,
          Array.from({ length: P }, (_, p) => actions[p * n + e]),
        );
        if (!res.terminated) return res.state;
        ends++;
        return lbfResetReference(cfg, {
          seed,
          env: e,
          episode: res.state.episode + 1,
          previous: res.state,
        });
      });
      assertEq(vec.states, states, `E=${n} t=${t} states`);
    }
    if (ends === 0) throw new Error(`E=${n}: no episode ended`);
  }
});

Deno.test("ReferenceVec over rwareReference() equals a plain loop of the RWARE reference at ragged sizes", () => {
  const cfg = parseRwareTask("rware-tiny-2ag")!;
  const layout = rwareLayout(cfg);
  for (const numEnvs of [1, 5]) {
    const seed = 3 + numEnvs, A = cfg.numAgents, n = numEnvs;
    const vec = new ReferenceVec(rwareReference(cfg, layout, seed), {
      numEnvs,
      obsType: Float32Array,
    });
    let states = Array.from(
      { length: n },
      (_, env) => rwareResetReference(cfg, layout, { seed, env, episode: 0 }),
    );
    const rng = new HostRng(seed, RNG_PURPOSE.test);
    let ends = 0;
    for (let t = 0; t < cfg.maxSteps + 20; t++) {
      const actions = Uint32Array.from({ length: A * n }, () => rng.below(5));
      vec.step(actions);
      states = states.map((s, e) => {
        const r = rwareStepReference(
          cfg,
          layout,
          s,
          Array.from({ length: A }, (_, i) => actions[i * n + e]),
          { seed, env: e },
        );
        if (!r.terminated) return r.state;
        ends++;
        const row = rwareObsReference(cfg, layout, r.state)[0];
        const dim = row.length;
        assertExact(
          vec.terminalObs.subarray(e * dim, e * dim + dim),
          row,
          `E=${n} t=${t} env ${e} terminalObs`,
        );
        return rwareResetReference(cfg, layout, {
          seed,
          env: e,
          episode: r.state.episode + 1,
          totalSteps: r.state.totalSteps,
        });
      });
      assertEq(vec.states, states, `E=${n} t=${t} states`);
    }
    if (ends !== n) throw new Error(`E=${n}: ${ends} episodes ended, want ${n}`);
  }
});
