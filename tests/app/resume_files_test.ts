/**
 * Resuming through files, for every training pipeline: `deno task run` in a subprocess, killed with
 * SIGKILL at a random moment after its first checkpoint, then `--resume`, must write the same
 * `metrics.jsonl` and `metrics.csv` (every field but wall time) and the same final checkpoint as an
 * uninterrupted run. The kill can land anywhere, mid-write included: checkpoints are written
 * atomically and a partial last metrics line is dropped on resume (`app/run_files.ts`).
 *
 * Each case is tiny (a few envs, small networks and buffers, ten log points with a checkpoint at
 * each), so a run takes a second or two on llvmpipe. The kill delay is a seeded fraction of the
 * time the uninterrupted run spent between its first checkpoint and its last row, halved and
 * retried (at most three tries) when the run finishes before the kill; `RESUME_KILL_SEED` changes
 * the fractions (default 1). DIALS's runtime breakdown (`scalars.time*`) is timing and not compared.
 *
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { readCheckpoint } from "../../app/checkpoint.ts";
import { seeded, SKIP_GPU } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net"];
const KILL_SEED = Number(Deno.env.get("RESUME_KILL_SEED") ?? "1");

/** LBF task of the SEAC, IDQN, SUPER and LBS cases. */
const LBF = "Foraging-5x5-2p-1f";
/** Ten log points, each one a checkpoint. */
const log = (interval: number) => `log: { interval: ${interval}, checkpointEvery: ${interval} }`;

/** SEAC family: 4 envs × 5 steps per iteration, 10 iterations per log point. */
const seacYaml = (name: string, evalLine: string) =>
  `seed: 3
numEnvs: 4
totalSteps: 2000
env: ${LBF}
algo: { name: ${name}, hidden: 8, lr: 0.003, iterationsPerSubmit: 4 }
${log(200)}
${evalLine}
`;

/**
 * IDQN family on LBF with an MLP learner: a small buffer (wraps before the end), learning from
 * step 100 (the first log point is 200), target syncs and ε decay within the run.
 */
const idqnYaml = (name: string, extra: string) =>
  `seed: 5
numEnvs: 4
totalSteps: 2000
env: ${LBF}
algo:
  name: ${name}
  conv: []
  dense: [16]
  embed: 0
  headHidden: 8
  batchSize: 16
  bufferSize: 600
  learningStarts: 100
  randomSteps: 0
  targetEvery: 240
  epsilonSteps: 1200
  ${extra}
${log(200)}
eval: { interval: 0 }
`;

/** DIALS family on warehouse-4, sized as train_test.ts's DIALS_SMOKE. */
const dialsYaml = (name: string, extra: string) =>
  `seed: 2
numEnvs: 2
totalSteps: 640
env: warehouse-4
algo:
  name: ${name}
  hidden: 8
  hidden2: 8
  numMinibatches: 2
  ${extra}
${log(64)}
`;
const DIALS_EXTRA = `datasetSize: 400
  aipEpochs: 1
  aipHidden: 8
  gsEnvs: 2
  evalEpisodes: 1
  evalFreq: 192
  influenceTrainFreq: 320`;

/** One pipeline's config, by algorithm name. */
const CASES: Record<string, string> = {
  // The one case with in-training evaluation (with best-model tracking): its state resumes too.
  seac: seacYaml("seac", "eval: { interval: 400, episodes: 4, envs: 4 }"),
  iac: seacYaml("iac", "eval: { interval: 0 }"),
  snac: seacYaml("snac", "eval: { interval: 0 }"),
  idqn: idqnYaml("idqn", "prioritized: true"),
  ps: idqnYaml("ps", "prioritized: true"),
  "idqn-same-rb": idqnYaml("idqn-same-rb", "prioritized: false"),
  seql: idqnYaml("seql", "tau: 0.05"),
  iql: idqnYaml("iql", "tau: 0.05"),
  super: idqnYaml("super", "window: 64"),
  lbs: idqnYaml("lbs", "p2: td"),
  ppo_gs: dialsYaml("ppo_gs", "gsPolicy: independent\neval: { interval: 0 }"),
  dials: dialsYaml("dials", DIALS_EXTRA),
  untrained_dials: dialsYaml("untrained_dials", DIALS_EXTRA),
};

/**
 * Metrics that measure time, not learning: the row's wall time and speed, and DIALS's per-phase
 * runtime breakdown (`scalars.time*`, host time around submits on adapters without timestamps).
 */
const TIMING_SCALAR = /^time[A-Z]/;
/** Checkpoint tensors that hold times (DIALS's phase clock). */
const TIMING_TENSORS = new Set(["trainer.clock.totals"]);

function spawnRun(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, "app/run.ts", ...args, "--quiet"],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `path` exists or the child exits; returns whether it exists. */
async function waitForFile(path: string, status: Promise<Deno.CommandStatus>): Promise<boolean> {
  let done = false;
  status.then(() => done = true);
  while (!done) {
    if (await exists(path)) return true;
    await sleep(5);
  }
  return await exists(path);
}

/** Complete lines of `path` now (0 when absent). */
async function lineCount(path: string): Promise<number> {
  const t = await Deno.readTextFile(path).catch(() => "");
  let n = 0;
  for (let i = t.indexOf("\n"); i >= 0; i = t.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * Watches a run folder until its process exits: when the first checkpoint appeared and when each
 * metrics row did [ms since `t0`].
 */
async function watchRun(dir: string, status: Promise<Deno.CommandStatus>, t0: number) {
  let done = false;
  status.then(() => done = true);
  let firstCheckpoint = NaN;
  const rowTimes: number[] = [];
  while (!done) {
    const now = performance.now() - t0;
    if (Number.isNaN(firstCheckpoint) && await exists(`${dir}/checkpoint.safetensors`)) {
      firstCheckpoint = now;
    }
    const n = await lineCount(`${dir}/metrics.jsonl`);
    while (rowTimes.length < n) rowTimes.push(now);
    await sleep(5);
  }
  return { firstCheckpoint, rowTimes };
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** A metrics.jsonl row without its timing fields. */
function untimedRow(line: string): Record<string, unknown> {
  const { wallSeconds: _w, stepsPerSecond: _s, ...rest } = JSON.parse(line);
  rest.scalars = Object.fromEntries(
    Object.entries(rest.scalars ?? {}).filter(([k]) => !TIMING_SCALAR.test(k)),
  );
  return rest;
}

async function jsonlRows(dir: string): Promise<Record<string, unknown>[]> {
  const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).split("\n");
  assertEquals(lines.at(-1), "", `${dir}/metrics.jsonl ends with a newline`);
  return lines.slice(0, -1).map(untimedRow);
}

/** Splits one CSV line into cells (quoted cells may hold commas and doubled quotes). */
function csvCells(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)) {
    out.push(m[1].startsWith('"') ? m[1].slice(1, -1).replaceAll('""', '"') : m[1]);
    if (m[2] === "") break;
  }
  return out;
}

/** metrics.csv without its timing columns: the header, then one array of cells per row. */
async function csvRows(dir: string): Promise<string[][]> {
  const lines = (await Deno.readTextFile(`${dir}/metrics.csv`)).trim().split("\n");
  const header = csvCells(lines[0]);
  const keep = header.map((h, i) =>
    h === "wallSeconds" || h === "stepsPerSecond" || TIMING_SCALAR.test(h) ? -1 : i
  ).filter((i) => i >= 0);
  return lines.map((l) => {
    const cells = csvCells(l);
    assertEquals(cells.length, header.length, `${dir}/metrics.csv: "${l}"`);
    return keep.map((i) => cells[i]);
  });
}

/** Names of the tensors whose bytes differ (or that only one file has), and metadata problems. */
async function checkpointDiff(a: string, b: string, meta: string[]): Promise<string[]> {
  const [x, y] = await Promise.all([readCheckpoint(a), readCheckpoint(b)]);
  const out: string[] = [];
  const names = new Set([...Object.keys(x.tensors), ...Object.keys(y.tensors)]);
  for (const n of [...names].sort()) {
    if (TIMING_TENSORS.has(n)) continue;
    const s = x.tensors[n], t = y.tensors[n];
    if (!s || !t) {
      out.push(`${n}: only in ${s ? "the uninterrupted" : "the resumed"} run`);
      continue;
    }
    const bs = new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    const bt = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    let diff = 0, first = -1;
    for (let i = 0; i < Math.max(bs.length, bt.length); i++) {
      if (bs[i] !== bt[i]) {
        diff++;
        if (first < 0) first = i;
      }
    }
    if (s.dtype !== t.dtype || s.shape.join() !== t.shape.join() || diff > 0) {
      const k = Math.floor(first / (s.dtype === "u8" ? 1 : 4));
      out.push(
        `${n} [${s.shape}]: ${diff} bytes differ; first element ${k}: ${s.data[k]} vs ${t.data[k]}`,
      );
    }
  }
  for (const k of meta) {
    if (x.metadata[k] !== y.metadata[k]) {
      out.push(`metadata.${k}: ${x.metadata[k]} vs ${y.metadata[k]}`);
    }
  }
  return out;
}

/** What the killed run left on disk. */
async function killedState(dir: string) {
  const raw = await Deno.readTextFile(`${dir}/metrics.jsonl`).catch(() => "");
  const ckpt = await readCheckpoint(`${dir}/checkpoint.safetensors`);
  const leftovers: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.includes(".tmp-")) leftovers.push(e.name);
  return {
    rows: raw.split("\n").filter(Boolean).length,
    partialLine: raw.length > 0 && !raw.endsWith("\n"),
    checkpointSteps: Number(ckpt.metadata.envSteps),
    leftovers,
  };
}

for (const [i, [algo, yaml]] of Object.entries(CASES).entries()) {
  Deno.test({
    name: `${algo}: a run killed at a random point resumes through files to the same metrics`,
    ignore: SKIP_GPU,
    async fn() {
      const root = await Deno.makeTempDir({ prefix: `resume_${algo}_` });
      try {
        const config = `${root}/${algo}.yaml`;
        await Deno.writeTextFile(config, yaml);
        const straightDir = `${root}/straight`, killedDir = `${root}/killed`;

        // The uninterrupted run, timed: when its first checkpoint and its last row appear.
        const t0 = performance.now();
        const straight = spawnRun([config, "--root", root, "--name", "straight"]);
        const straightOut = straight.output();
        const watched = await watchRun(straightDir, straight.status, t0);
        const so = await straightOut;
        const tEnd = performance.now() - t0;
        assertEquals(so.code, 0, text(so.stderr));
        const firstCkpt = watched.firstCheckpoint;
        assert(!Number.isNaN(firstCkpt), "the uninterrupted run wrote a checkpoint while running");
        // From the first checkpoint to the last row (after it: the final checkpoint and report).
        const window = Math.max(0, (watched.rowTimes.at(-1) ?? tEnd) - firstCkpt);

        // The same run, killed a seeded random time after its first checkpoint exists. A run that
        // finishes before the kill (a loaded machine runs at another speed) is tried again with
        // half the delay, at most three times.
        const u = seeded(KILL_SEED * 1000 + i).rng.uniform(0, 1);
        let delay = NaN, tries = 0, finishedFirst = true;
        while (finishedFirst && tries < 3) {
          delay = u * 0.9 * window / 2 ** tries++;
          await Deno.remove(killedDir, { recursive: true }).catch(() => {});
          const killed = spawnRun([config, "--root", root, "--name", "killed"]);
          const killedOut = killed.output();
          const seen = await waitForFile(`${killedDir}/checkpoint.safetensors`, killed.status);
          assert(seen, "the run to kill wrote a checkpoint");
          await sleep(delay);
          finishedFirst = false;
          try {
            killed.kill("SIGKILL");
          } catch {
            finishedFirst = true; // it exited before the kill
          }
          const ko = await killedOut;
          finishedFirst ||= ko.code === 0;
        }
        assert(!finishedFirst, `the kill landed before the run finished (${tries} tries)`);
        const left = await killedState(killedDir);

        // Resume to the end.
        const ro = await spawnRun(["--resume", killedDir]).output();
        assertEquals(ro.code, 0, text(ro.stderr));

        console.log(
          `${algo}: straight ${(tEnd / 1000).toFixed(2)} s (first checkpoint at ${
            (firstCkpt / 1000).toFixed(2)
          } s, last row at ${((firstCkpt + window) / 1000).toFixed(2)} s); killed ${
            (delay / 1000).toFixed(2)
          } s after its first checkpoint${
            tries > 1 ? ` (try ${tries})` : ""
          } with ${left.rows} rows${
            left.partialLine ? " (last one partial)" : ""
          }, checkpoint at ${left.checkpointSteps} steps${
            left.leftovers.length ? `, leftover ${left.leftovers.join(" ")}` : ""
          }`,
        );

        // The final checkpoints first: when the metrics differ, their tensors say where.
        const ckptDiff = await checkpointDiff(
          `${straightDir}/checkpoint.safetensors`,
          `${killedDir}/checkpoint.safetensors`,
          ["envSteps", "hostState", "evalState"],
        );
        const state = `final checkpoint: ${ckptDiff.length ? ckptDiff.join("; ") : "identical"}`;
        const want = await jsonlRows(straightDir), got = await jsonlRows(killedDir);
        assertEquals(
          got.map((r) => r.envSteps),
          want.map((r) => r.envSteps),
          `rows at the same env steps, none lost or repeated (${state})`,
        );
        for (const [k, w] of want.entries()) {
          assertEquals(got[k], w, `metrics.jsonl row ${k + 1} (envSteps ${w.envSteps}); ${state}`);
        }
        assertEquals(await csvRows(killedDir), await csvRows(straightDir), "metrics.csv");
        assertEquals(ckptDiff, [], "final checkpoint tensors and counters");
        if (await exists(`${straightDir}/best.safetensors`)) {
          assertEquals(
            await checkpointDiff(
              `${straightDir}/best.safetensors`,
              `${killedDir}/best.safetensors`,
              ["envSteps", "eval"],
            ),
            [],
            "best model",
          );
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}
