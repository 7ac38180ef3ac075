// Export of run folders to marl-eval's JSON (docs/statistics.md §6), on run folders written by
// hand into a temp folder (no training).
import { deepStrictEqual as assertEquals, match, ok as assert, rejects } from "node:assert/strict";
import { configToYaml } from "../../app/config.ts";
import { exportMarlEval, findSeedDirs } from "../../app/export.ts";
import { type MarlEvalRun, toMarlEval, validateMarlEval } from "../../app/marl_eval.ts";
import { type MetricsRow, rowToJson, RUN_FILES, writeFileAtomic } from "../../app/run_files.ts";

const enc = new TextEncoder();

function row(
  envSteps: number,
  meanReturn: number,
  scalars: Record<string, number> = {},
): MetricsRow {
  return {
    envSteps,
    wallSeconds: envSteps / 1000,
    stepsPerSecond: 1000,
    episodes: Number.isFinite(meanReturn) ? 4 : 0,
    meanReturn,
    meanLength: Number.isFinite(meanReturn) ? 25 : NaN,
    returnPerAgent: [meanReturn, meanReturn],
    scalars,
  };
}

/** A seed folder as train() leaves it: config.yaml and metrics.jsonl. */
async function writeSeed(
  dir: string,
  cfg: { algo: string; env: unknown; seed: number },
  rows: MetricsRow[],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const config = {
    seed: cfg.seed,
    numEnvs: 8,
    totalSteps: 300,
    env: cfg.env,
    algo: { name: cfg.algo },
  };
  await writeFileAtomic(`${dir}/${RUN_FILES.config}`, enc.encode(configToYaml(config)));
  await writeFileAtomic(
    `${dir}/${RUN_FILES.jsonl}`,
    enc.encode(rows.map((r) => rowToJson(r) + "\n").join("")),
  );
}

/** runs/<algo>_lbf/seed-<k>/ for two algorithms × three seeds, and one RWARE single-seed run. */
async function writeRuns(root: string): Promise<void> {
  for (const algo of ["seac", "iac"]) {
    for (const k of [0, 1, 2]) {
      const rows = [100, 200, 300].map((s) => row(s, (algo === "seac" ? 2 : 1) * s / 1000 + k));
      await writeSeed(`${root}/${algo}_lbf/seed-${k}`, {
        algo,
        env: "Foraging-5x5-2p-1f",
        seed: 1 + k,
      }, rows);
    }
  }
  await writeSeed(`${root}/seac_rware`, { algo: "seac", env: "rware-tiny-2ag", seed: 7 }, [
    row(1000, 0.5),
    row(2000, 1.5),
  ]);
}

Deno.test("exportMarlEval() writes env family / task / algorithm / seed_<k> / step_<i>", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeRuns(root);
    const r = await exportMarlEval([root]);
    assertEquals(r.dirs.length, 7);
    assertEquals(Object.keys(r.data), ["lbf", "rware"]);
    assertEquals(Object.keys(r.data.lbf), ["Foraging-5x5-2p-1f"]);
    assertEquals(Object.keys(r.data.lbf["Foraging-5x5-2p-1f"]).sort(), ["iac", "seac"]);
    const seac = r.data.lbf["Foraging-5x5-2p-1f"].seac;
    assertEquals(Object.keys(seac), ["seed_1", "seed_2", "seed_3"]);
    assertEquals(seac.seed_2, {
      step_0: { step_count: 100, return: [1.2] },
      step_1: { step_count: 200, return: [1.4] },
      step_2: { step_count: 300, return: [1.6] },
      absolute_metrics: { return: [1.6] },
    });
    assertEquals(r.data.rware["rware-tiny-2ag"].seac.seed_7.absolute_metrics, { return: [1.5] });
    assertEquals(r.notes, []);
    assertEquals(r.problems, []);
    // The same file from the run folders themselves, and from one seed folder.
    assertEquals(
      (await exportMarlEval([`${root}/iac_lbf`, `${root}/seac_lbf`, `${root}/seac_rware`])).data,
      r.data,
    );
    assertEquals(
      Object.keys(
        (await exportMarlEval([`${root}/iac_lbf/seed-2`])).data.lbf["Foraging-5x5-2p-1f"].iac,
      ),
      [
        "seed_3",
      ],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportMarlEval() labels a task with options and writes several metrics", async () => {
  const root = await Deno.makeTempDir();
  try {
    const env = { name: "Foraging-8x8-2p-2f-coop", maxEpisodeSteps: 25, timeLimit: "truncate" };
    await writeSeed(`${root}/x`, { algo: "idqn", env, seed: 3 }, [
      row(10, 0.25, { loss: 0.5 }),
      row(20, 0.5, { loss: 0.25 }),
    ]);
    const r = await exportMarlEval([`${root}/x`], {
      metrics: ["return", "episode_length", "loss"],
    });
    const task = "Foraging-8x8-2p-2f-coop (maxEpisodeSteps 25, timeLimit truncate)";
    assertEquals(r.data.lbf[task].idqn.seed_3.step_1, {
      step_count: 20,
      return: [0.5],
      episode_length: [25],
      loss: [0.25],
    });
    assertEquals(r.problems, []);
    await rejects(exportMarlEval([`${root}/x`], { metrics: ["nope"] }), /unknown metric "nope"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportMarlEval() exports evaluations, the best model's as absolute metric", async () => {
  const root = await Deno.makeTempDir();
  try {
    const evaluated = (r: MetricsRow, value: number, best?: number): MetricsRow => ({
      ...r,
      eval: {
        protocol: "team return (20 greedy episodes)",
        value,
        episodes: 20,
        policy: "greedy",
        returns: "team",
        returnPerAgent: [value / 2, value / 2],
        meanLength: 25,
        ...(best === undefined ? {} : {
          best: { protocol: "best model, 100 episodes", value: best, envSteps: r.envSteps },
        }),
      },
    });
    await writeSeed(`${root}/e`, { algo: "seac", env: "Foraging-5x5-2p-1f", seed: 4 }, [
      row(100, 0.1),
      evaluated(row(200, 0.2), 0.3, 0.3),
      row(300, 0.25),
      evaluated(row(400, 0.4), 0.35, 0.45),
    ]);
    const r = await exportMarlEval([`${root}/e`], { metrics: ["eval_return"] });
    assertEquals(r.data.lbf["Foraging-5x5-2p-1f"].seac.seed_4, {
      step_0: { step_count: 200, eval_return: [0.3] },
      step_1: { step_count: 400, eval_return: [0.35] },
      absolute_metrics: { eval_return: [0.45] },
    });
    match(r.notes[0], /2 of 4 rows left out/);
    assertEquals(r.problems, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportMarlEval() leaves out rows without a finite return and says so", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeSeed(`${root}/a/seed-0`, { algo: "seac", env: "Foraging-5x5-2p-1f", seed: 1 }, [
      row(100, NaN),
      row(200, 0.5),
      row(300, 0.7),
    ]);
    await writeSeed(`${root}/a/seed-1`, { algo: "seac", env: "Foraging-5x5-2p-1f", seed: 2 }, [
      row(100, 0.1),
      row(200, 0.4),
      row(300, 0.6),
    ]);
    await writeSeed(`${root}/a/seed-2`, { algo: "seac", env: "Foraging-5x5-2p-1f", seed: 3 }, [
      row(100, NaN),
    ]);
    const r = await exportMarlEval([`${root}/a`]);
    const runs = r.data.lbf["Foraging-5x5-2p-1f"].seac;
    assertEquals(runs.seed_1, {
      step_0: { step_count: 200, return: [0.5] },
      step_1: { step_count: 300, return: [0.7] },
      absolute_metrics: { return: [0.7] },
    });
    assertEquals(Object.keys(runs), ["seed_1", "seed_2"]);
    assertEquals(r.notes.length, 3);
    match(r.notes[0], /seed-0: 1 of 3 rows left out/);
    match(r.notes[2], /seed-2: left out, no row/);
    // marl-eval needs the same number of steps in every run.
    assertEquals(r.problems, ["lbf: numbers of steps differ: 2 | 3"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exportMarlEval() refuses two runs that would share one key, unless named by folder", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const name of ["lr_high", "lr_low"]) {
      await writeSeed(`${root}/${name}`, { algo: "seac", env: "Foraging-5x5-2p-1f", seed: 1 }, [
        row(1, 1),
      ]);
    }
    await rejects(exportMarlEval([root]), /are both lbf \/ Foraging-5x5-2p-1f \/ seac \/ seed_1/);
    const r = await exportMarlEval([root], { algoName: "folder" });
    assertEquals(Object.keys(r.data.lbf["Foraging-5x5-2p-1f"]), ["lr_high", "lr_low"]);
    await rejects(findSeedDirs([`${root}/none`]), /folder not found/);
    await Deno.mkdir(`${root}/empty`);
    await rejects(findSeedDirs([`${root}/empty`]), /no run folder/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("validateMarlEval() accepts marl-eval's example layout and names each problem", () => {
  // The layout of marl-eval's tests/mock_data_test.json (step keys in any case, runs named by
  // seed, several values per metric), with our own numbers.
  const run = (v: number): MarlEvalRun => ({
    STEP_1: { step_count: 10006, return: [v, v + 1, v + 2], win_rate: [0.5] },
    STEP_2: { step_count: 20008, return: [v + 1, v, v], win_rate: [0.7] },
    absolute_metrics: { return: [v, v, v, v, v, v], win_rate: [0.6] },
  });
  const good = {
    env_1: {
      task_1: {
        algo_1: { "42": run(1), "43289": run(2) },
        algo_2: { "42": run(3), "43289": run(4) },
      },
      task_2: {
        algo_1: { "42": run(1), "43289": run(2) },
        algo_2: { "42": run(3), "43289": run(4) },
      },
    },
  };
  assertEquals(validateMarlEval(good), []);
  // deno-lint-ignore no-explicit-any
  const bad = structuredClone(good) as Record<string, any>;
  delete bad.env_1.task_2.algo_2["43289"].absolute_metrics;
  bad.env_1.task_1["algo,3"] = bad.env_1.task_1.algo_1;
  bad.env_1.task_1.algo_1["42"].STEP_2.return = 3;
  bad.env_1.task_1.algo_2["42"].STEP_2.step_count = 5;
  bad.env_1.task_1.algo_2["42"].step_1 = bad.env_1.task_1.algo_2["42"].STEP_1;
  delete bad.env_1.task_2.algo_1["42"].STEP_1.win_rate;
  const problems = validateMarlEval(bad);
  for (
    const want of [
      /env_1\/task_1\/algo,3: algorithm name has a comma/,
      /env_1\/task_1\/algo_1\/42\/STEP_2\/return: not a non-empty list/,
      /env_1\/task_1\/algo_2\/42: two keys read as "step_1"/,
      /env_1\/task_1\/algo_2\/42\/STEP_2: step_count 5 does not increase/,
      /env_1\/task_2\/algo_2\/43289: no absolute_metrics/,
      /env_1: algorithms across tasks differ/,
      /env_1: numbers of steps differ/,
      /env_1: metrics across steps differ/,
    ]
  ) assert(problems.some((p) => want.test(p)), `${want} in ${JSON.stringify(problems, null, 1)}`);
  assertEquals(validateMarlEval([]), ["top level: not an object of environments"]);
});

Deno.test("toMarlEval() output round-trips through JSON text", () => {
  const r = toMarlEval([
    { family: "lbf", task: "t", algo: "a", seed: 0, dir: "x", rows: [row(5, 0.5), row(9, 0.75)] },
  ]);
  assertEquals(JSON.parse(JSON.stringify(r.data)), r.data);
  assertEquals(Object.keys(r.data.lbf.t.a.seed_0), ["step_0", "step_1", "absolute_metrics"]);
});

Deno.test("deno task export writes the file and exits 0", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeRuns(root);
    const out = `${root}/all.json`;
    const res = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--quiet",
        "export",
        root,
        "--out",
        out,
        "--metric",
        "return,steps_per_second",
      ],
      cwd: new URL("../..", import.meta.url),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(res.stdout) + new TextDecoder().decode(res.stderr);
    assertEquals(res.code, 0, text);
    match(text, /export: .*all\.json \(7 runs from 7 seed folders\)/);
    const data = JSON.parse(await Deno.readTextFile(out));
    assertEquals(validateMarlEval(data), []);
    assertEquals(data.lbf["Foraging-5x5-2p-1f"].iac.seed_1.step_0, {
      step_count: 100,
      return: [0.1],
      steps_per_second: [1000],
    });
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "export", `${root}/missing`],
      cwd: new URL("../..", import.meta.url),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(bad.code, 1);
    match(
      new TextDecoder().decode(bad.stderr),
      /error: Cannot export ".*missing": folder not found/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
