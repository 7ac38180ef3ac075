// In-training evaluation in the product: the `eval:` config section and the families' paper
// protocols, evaluation points in the loop (and nothing read between them), metrics rows and
// files under the paper's names, best.safetensors, resume, and `deno task eval` defaults.
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  rejects,
} from "node:assert/strict";
import { configToYaml, parseConfig, validateConfig } from "../../app/config.ts";
import { readCheckpoint, restoreCheckpoint, saveCheckpoint } from "../../app/checkpoint.ts";
import { evaluate } from "../../app/eval.ts";
import { type MetricsRow, readMetricsRows, train } from "../../app/train.ts";
import {
  buildEvaluation,
  buildTrainer,
  evalProtocolOf,
  planEvaluation,
  trainLoop,
} from "../../app/train_loop.ts";
import { ALGORITHMS } from "../../algorithms/mod.ts";
import { evalNames } from "../../algorithms/trainer.ts";
import { gpuTest } from "../_testing.ts";

const LBF = "Foraging-5x5-2p-1f";

/** Asserts `fn` throws `cls` with every string of `includes` in the message. */
function assertThrows(fn: () => unknown, cls: ErrorConstructor, includes: string[]): void {
  try {
    fn();
  } catch (e) {
    assert(e instanceof cls, `threw ${(e as Error).name}, want ${cls.name}`);
    for (const s of includes) assert((e as Error).message.includes(s), (e as Error).message);
    return;
  }
  throw new Error(`did not throw, want ${cls.name}`);
}

Deno.test("every family declares its paper's evaluation protocol", () => {
  const cfg = (name: string, extra: Record<string, unknown> = {}) =>
    validateConfig({ env: LBF, algo: { name, ...extra } });
  for (const name of ["seac", "iac", "snac"]) {
    const c = cfg(name);
    assertEquals(c.eval, {
      interval: 1_000_000,
      intervalFraction: 0,
      episodes: 100,
      policy: "stochastic",
      returns: "team",
      envs: 10,
      seed: 1,
      best: true,
    });
    assertEquals(evalNames(evalProtocolOf(c), c.eval), {
      value: "evaluation return (100 stochastic episodes)",
      best: "final evaluation return (best model, 100 stochastic episodes)",
    });
  }
  for (const name of ["idqn", "ps", "idqn-same-rb", "super", "lbs"]) {
    const c = cfg(name, { conv: [], dense: [8] });
    assertEquals(
      [c.eval.intervalFraction, c.eval.interval, c.eval.episodes, c.eval.policy, c.eval.returns],
      [0.005, 0, 20, "greedy", "team"],
      name,
    );
    assertEquals(c.eval.best, false, name);
    assertEquals(evalNames(evalProtocolOf(c), c.eval).value, "team return (20 greedy episodes)");
  }
  for (const name of ["seql", "iql"]) {
    const c = cfg(name, { conv: [], dense: [8] });
    // 5 episodes at ε = 0.01 every 50 episodes of 50 steps.
    assertEquals([c.eval.interval, c.eval.episodes, c.eval.policy], [2500, 5, "stochastic"], name);
  }
  const r = cfg("random");
  assertEquals([r.eval.interval, r.eval.intervalFraction], [0, 0], "random: no evaluation");
  for (const name of ["dials", "untrained_dials"]) {
    const c = validateConfig({ env: "warehouse-4", algo: { name } });
    const p = evalProtocolOf(c);
    assertEquals(p.runner, "trainer");
    const a = ALGORITHMS.dials.defaults;
    assertEquals(
      [c.eval.interval, c.eval.episodes, c.eval.envs, c.eval.policy, c.eval.returns],
      [a.evalFreq, a.evalEpisodes * a.gsEnvs, a.gsEnvs, "stochastic", "agent"],
    );
    assertEquals(evalNames(p, c.eval).value, "mean episodic return (100 stochastic episodes)");
  }
});

Deno.test("the eval section overrides the family protocol field by field", async () => {
  const c = validateConfig({
    env: LBF,
    algo: { name: "seac" },
    eval: { intervalFraction: 0.01, policy: "greedy", returns: "agent", best: false },
  });
  assertEquals(c.eval, {
    interval: 0, // set only the fraction: the family's interval is off
    intervalFraction: 0.01,
    episodes: 100,
    policy: "greedy",
    returns: "agent",
    envs: 10,
    seed: 1,
    best: false,
  });
  assertEquals(
    evalNames(evalProtocolOf(c), c.eval).value,
    "return per agent (100 greedy episodes)",
  );
  const s = validateConfig({
    env: LBF,
    algo: { name: "super", conv: [], dense: [8] },
    eval: { interval: 4000 },
  });
  assertEquals([s.eval.interval, s.eval.intervalFraction], [4000, 0]);
  // Round trip through config.yaml, and CLI overrides on the same paths.
  assertEquals(await parseConfig(configToYaml(c)), c);
  // config.yaml lists both: turning the fraction off leaves interval 0, i.e. no evaluation.
  const o = await parseConfig(configToYaml(c), { overrides: [["eval.intervalFraction", "0"]] });
  assertEquals([o.eval.interval, o.eval.intervalFraction], [0, 0]);
});

Deno.test("validateConfig() names the dotted path of every bad eval field", () => {
  const bad = (evalSection: unknown, cls: ErrorConstructor, includes: string[]) =>
    assertThrows(
      () => validateConfig({ env: LBF, algo: { name: "seac" }, eval: evalSection }),
      cls,
      includes,
    );
  bad({ every: 3 }, TypeError, ['unknown key "eval.every"', "interval, intervalFraction"]);
  bad({ episodes: 0 }, RangeError, ['"eval.episodes" must be an integer between 1']);
  bad({ episodes: "ten" }, TypeError, ['"eval.episodes" must be an integer, got "ten"']);
  bad({ policy: "eps" }, RangeError, ['"eval.policy" must be one of greedy, stochastic']);
  bad({ returns: 1 }, TypeError, ['"eval.returns" must be one of team, agent, got 1']);
  bad({ intervalFraction: 2 }, RangeError, ['"eval.intervalFraction" must be a number between']);
  bad({ best: "yes" }, TypeError, ['"eval.best" must be true or false']);
  bad({ envs: 0 }, RangeError, ['"eval.envs"']);
  bad({ interval: 10, intervalFraction: 0.1 }, RangeError, ["cannot both be > 0"]);
  bad(3, TypeError, ['"eval" must be a map']);
  // DIALS evaluates by itself: its settings come from the hyper-parameters.
  assertThrows(
    () => validateConfig({ env: "warehouse-4", algo: { name: "dials" }, eval: { episodes: 5 } }),
    RangeError,
    ['"eval.episodes" is 5, but "dials" evaluates by itself', "hyper-parameters"],
  );
  const same = validateConfig({
    env: "warehouse-4",
    algo: { name: "dials", evalEpisodes: 2 },
    eval: { episodes: 200 },
  });
  assertEquals(same.eval.episodes, 200, "repeating the derived value is fine (config.yaml)");
});

/** A random-baseline run with evaluation every 800 steps and metrics every 320 (16 envs). */
const RANDOM_EVAL = {
  seed: 7,
  numEnvs: 16,
  totalSteps: 3200,
  env: LBF,
  algo: { name: "random" },
  log: { interval: 320, checkpointEvery: 960 },
  eval: { interval: 800, episodes: 10, envs: 4 },
};

gpuTest(
  "evaluation points come at the configured interval with no read between them",
  async (engine) => {
    for (const section of [RANDOM_EVAL.eval, { intervalFraction: 0.25, episodes: 10, envs: 4 }]) {
      const config = validateConfig({ ...RANDOM_EVAL, eval: section });
      const trainer = await buildTrainer(engine, config);
      assertEquals(planEvaluation(config, trainer.stepsPerIteration).itersPerEval, 50);
      await rejects(() => trainLoop(trainer, config), /pass options.evaluation/);
      const evaluation = await buildEvaluation(engine, trainer, config);
      const reads: number[] = [], rows: MetricsRow[] = [];
      let last = engine.stats.reads;
      await trainLoop(trainer, config, {
        evaluation,
        onRow(row) {
          reads.push(engine.stats.reads - last);
          last = engine.stats.reads;
          rows.push(row);
        },
      });
      const logSteps = Array.from({ length: 10 }, (_, i) => 320 * (i + 1));
      const evalSteps = [800, 1600, 2400, 3200];
      const all = [...new Set([...logSteps, ...evalSteps])].sort((a, b) => a - b);
      assertEquals(rows.map((r) => r.envSteps), all, "a row at every log and evaluation point");
      assertEquals(rows.filter((r) => r.eval).map((r) => r.envSteps), evalSteps);
      // One read per row (the metrics), one more where the evaluation ran: nothing in between.
      assertEquals(reads, rows.map((r) => (r.eval ? 2 : 1)));
      for (const r of rows.filter((x) => x.eval)) {
        assertEquals(r.eval!.episodes, 10);
        assertEquals(r.eval!.protocol, "return per agent (10 stochastic episodes)");
        assertEquals(r.eval!.value, (r.eval!.returnPerAgent[0] + r.eval!.returnPerAgent[1]) / 2);
      }
      assert(rows.some((r) => r.eval && r.eval.value > 0), "the random policy eats some food");
    }
  },
);

gpuTest("rows and files of runs without evaluation are unchanged", async (engine) => {
  const root = await Deno.makeTempDir();
  try {
    const r = await train(
      { ...RANDOM_EVAL, eval: undefined, name: "plain" },
      { root, engine, progress: "off", report: false },
    );
    const rows = r.seeds[0].rows;
    assertEquals(rows.length, 10);
    assert(rows.every((x) => !("eval" in x)));
    const line = (await Deno.readTextFile(`${r.dir}/metrics.jsonl`)).split("\n")[0];
    assert(!line.includes('"eval"'), line);
    const csv = (await Deno.readTextFile(`${r.dir}/metrics.csv`)).split("\n")[0];
    assertEquals(
      csv,
      "envSteps,wallSeconds,stepsPerSecond,episodes,meanReturn,meanLength,returnAgent0,returnAgent1",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** SEAC on LBF 5×5 learning fast enough for its greedy evaluation to improve a few times. */
const SEAC_EVAL = {
  seed: 1,
  numEnvs: 8,
  totalSteps: 8000,
  env: LBF,
  algo: { name: "seac", lr: 0.003, hidden: 32 },
  log: { interval: 800, checkpointEvery: 800 },
  eval: { interval: 800, episodes: 10, envs: 5, policy: "greedy" },
};

function deterministic(rows: MetricsRow[]) {
  return rows.map(({ wallSeconds: _w, stepsPerSecond: _s, ...rest }) => rest);
}

gpuTest(
  "best.safetensors is written only when the evaluation improves, across resumes, and restores",
  async (engine) => {
    const root = await Deno.makeTempDir();
    try {
      const opts = { root, engine, progress: "off", report: false } as const;
      const straight = await train({ ...SEAC_EVAL, name: "straight" }, opts);
      const rows = straight.seeds[0].rows;
      assertEquals(rows.length, 10);
      let best = -Infinity, bestAt = -1;
      const improved: boolean[] = [];
      for (const r of rows) {
        assert(r.eval?.best, `row ${r.envSteps} has the best value`);
        improved.push(r.eval.value > best);
        if (r.eval.value > best) [best, bestAt] = [r.eval.value, r.envSteps];
        assertEquals(r.eval.best, {
          protocol: "final evaluation return (best model, 10 greedy episodes)",
          value: best,
          envSteps: bestAt,
        });
      }
      const lastGain = improved.lastIndexOf(true);
      assert(improved.filter((x) => x).length >= 2, `several improvements: ${improved}`);
      assert(lastGain < rows.length - 1, "some evaluations after the last improvement");
      // Stop after every row and resume: best.safetensors is replaced (a new file) exactly at
      // the improving rows, and the resumed rows equal the uninterrupted ones.
      const dir = `${root}/chunked`;
      const inodes: (number | null)[] = [];
      for (let k = 1; k <= rows.length; k++) {
        const stopAt = 800 * k;
        if (k === 1) await train({ ...SEAC_EVAL, name: "chunked" }, { ...opts, stopAt });
        else await train(undefined, { ...opts, resume: dir, stopAt });
        inodes.push((await Deno.stat(`${dir}/best.safetensors`)).ino);
      }
      const replaced = inodes.map((ino, k) => k === 0 || ino !== inodes[k - 1]);
      assertEquals(replaced, improved, "best.safetensors replaced exactly on improvement");
      assertEquals(deterministic(await readMetricsRows(dir)), deterministic(rows));
      // The same best model (the runs differ only in their names, in the config metadata).
      const saved = await readCheckpoint(`${straight.dir}/best.safetensors`);
      const resumed = await readCheckpoint(`${dir}/best.safetensors`);
      assertEquals(resumed.tensors, saved.tensors);
      assertEquals(resumed.metadata.eval, saved.metadata.eval);
      // The best model restores: evaluated with the run's protocol it gives the best value.
      assertEquals(Object.keys(saved.tensors), ["trainer.net.params"]);
      assertEquals(JSON.parse(saved.metadata.eval), rows[lastGain].eval);
      const e = await evaluate(`${straight.dir}/best.safetensors`, { engine, html: null });
      assertEquals(e.protocol, "final evaluation return (best model, 10 greedy episodes)");
      assertEquals([e.value, e.episodes], [best, 10]);
      const csv = (await Deno.readTextFile(`${straight.dir}/metrics.csv`)).split("\n")[0];
      assertMatch(
        csv,
        /,"evaluation return \(10 greedy episodes\)","final evaluation return \(best model, 10 greedy episodes\)"$/,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

gpuTest("deno task eval defaults to the run's protocol and takes overrides", async (engine) => {
  const root = await Deno.makeTempDir();
  try {
    const r = await train(
      { ...RANDOM_EVAL, name: "ev", eval: { ...RANDOM_EVAL.eval, returns: "team" } },
      { root, engine, progress: "off", report: false },
    );
    const path = `${r.dir}/checkpoint.safetensors`;
    const d = await evaluate(path, { engine, html: null });
    assertEquals([d.protocol, d.episodes, d.policy, d.returns], [
      "team return (10 stochastic episodes)",
      10,
      "stochastic",
      "team",
    ]);
    // The same evaluation envs and actor stream as training's first evaluation.
    assertEquals(d.value, r.seeds[0].rows.find((x) => x.eval)!.eval!.value);
    const o = await evaluate(path, { engine, html: null, episodes: 3, returns: "agent" });
    assertEquals([o.protocol, o.episodes], ["return per agent (3 stochastic episodes)", 3]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

gpuTest("a checkpoint without evaluation state resumes with a fresh evaluation", async (engine) => {
  const root = await Deno.makeTempDir();
  try {
    const config = validateConfig({ ...RANDOM_EVAL, eval: { ...RANDOM_EVAL.eval, best: true } });
    const trainer = await buildTrainer(engine, config);
    const evaluation = (await buildEvaluation(engine, trainer, config))!;
    trainer.run(5);
    await evaluation.run(80);
    await saveCheckpoint(engine, { path: `${root}/old.safetensors`, trainer, config });
    await saveCheckpoint(engine, { path: `${root}/new.safetensors`, trainer, config, evaluation });
    const again = await buildTrainer(engine, config);
    const fresh = (await buildEvaluation(engine, again, config))!;
    const old = await readCheckpoint(`${root}/old.safetensors`);
    restoreCheckpoint(engine, { trainer: again, checkpoint: old, evaluation: fresh });
    assertEquals(fresh.best, null);
    const saved = await readCheckpoint(`${root}/new.safetensors`);
    assertEquals(Object.keys(saved.tensors).filter((k) => k.startsWith("eval.")), [
      "eval.actor.counter",
    ]);
    restoreCheckpoint(engine, { trainer: again, checkpoint: saved, evaluation: fresh });
    assertEquals(fresh.hostState(), evaluation.hostState());
    assertEquals(fresh.hostState().bestEnvSteps, 80);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
