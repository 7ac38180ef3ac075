// `deno task sweep` end to end: a local sweep, the same sweep as a job array on a real
// single-node Slurm (tests/_slurm.ts) with the same metrics, and a preempted Slurm cell that
// checkpoints, requeues itself and ends with the metrics of an uninterrupted run.
//
// The Slurm tests skip only where Slurm is not installed (apt could not install it) and not in CI;
// in CI (CI=true) a missing Slurm fails them.
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { readCheckpoint } from "../../app/checkpoint.ts";
import { writeReport } from "../../app/report.ts";
import { type MetricsRow, readMetricsRows } from "../../app/run_files.ts";
import { readCellStatus, readSweep, sweepRunDirs } from "../../app/sweep_files.ts";
import { SKIP_GPU } from "../_testing.ts";
import { SLURM_MISSING, type SlurmCluster, startSlurm } from "../_slurm.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const IN_CI = Deno.env.get("CI") === "true";
const SKIP_SLURM = SKIP_GPU || (SLURM_MISSING !== "" && !IN_CI);
if (SLURM_MISSING && !IN_CI) {
  console.warn(`sweep_test: Slurm tests skipped: ${SLURM_MISSING}`);
}

/** Four tiny cells: 2 tasks × 2 learning rates, two at a time. */
const TINY = `name: tiny
configs: seac_quick
tasks: [Foraging-5x5-2p-1f, Foraging-8x8-2p-2f-coop]
grid:
  algo.lr: [0.003, 0.001]
overrides:
  numEnvs: 4
  totalSteps: 1200
  log: { interval: 200, checkpointEvery: 400 }
parallel: 2
resources: { gpus: 1, cpus: 1, mem: 1G }
`;

/** Two longer cells, so one can be signalled while it runs. */
const LONG = `name: long
configs: seac_quick
grid:
  algo.lr: [0.003, 0.001]
overrides:
  numEnvs: 4
  totalSteps: 16000
  log: { interval: 400, checkpointEvery: 8000 }
parallel: 2
resources: { gpus: 1, cpus: 1, mem: 1G }
slurm: { grace: 10 }
`;

async function sweepCli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "sweep", ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** The fields of metrics rows that do not depend on wall time. */
function deterministic(rows: MetricsRow[]) {
  return rows.map(({ wallSeconds: _w, stepsPerSecond: _s, ...rest }) => rest);
}

/** Every cell's deterministic metrics, by cell name. */
async function cellMetrics(dir: string): Promise<Record<string, unknown>> {
  const sweep = await readSweep(dir);
  const out: Record<string, unknown> = {};
  for (const c of sweep.cells) {
    out[c.name] = deterministic(await readMetricsRows(`${dir}/runs/${c.name}`));
  }
  return out;
}

async function waitUntil(
  what: string,
  ms: number,
  ok: () => Promise<boolean>,
  why?: () => Promise<string>,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}${why ? `\n${await why()}` : ""}`);
}

async function readOr(path: string, fallback = ""): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return fallback;
  }
}

/** Diagnostics for a timeout: the queue and the cells' logs. */
async function diagnose(cluster: SlurmCluster, dir: string, cells: number): Promise<string> {
  const q = await cluster.run("squeue", ["-h", "-r", "--states=all", "-o", "%i %T %r"]);
  const logs: string[] = [];
  for (let i = 0; i < cells; i++) {
    logs.push(`cell ${i}: ${(await readOr(`${dir}/logs/cell-${i}.log`)).slice(-800)}`);
    logs.push(`cell ${i} status: ${await readOr(`${dir}/logs/cell-${i}.status`)}`);
  }
  return `squeue:\n${q.stdout}\n${logs.join("\n")}`;
}

Deno.test({
  name: "deno task sweep runs every cell locally; status, resume and the report agree",
  ignore: SKIP_GPU,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const file = `${root}/tiny.yaml`;
      await Deno.writeTextFile(file, TINY);
      const out = await sweepCli([file, "--root", root, "--plain"]);
      assertEquals(out.code, 0, out.stderr + out.stdout);
      const dir = `${root}/tiny`;
      const sweep = await readSweep(dir);
      assertEquals(sweep.cells.length, 4);
      for (const c of sweep.cells) {
        match(out.stdout, new RegExp(`\\[${c.name}\\] 1,200/1,200 steps \\(100%\\)`));
        match(out.stdout, new RegExp(`\n${c.name}: done in `));
        assertEquals((await readCellStatus(dir, c.index))?.state, "exited");
        assertEquals((await readMetricsRows(`${dir}/runs/${c.name}`)).length, 6);
        match(await Deno.readTextFile(`${dir}/logs/cell-${c.index}.log`), /^sweep cell \d+ "/);
      }
      const status = await sweepCli(["status", dir]);
      match(
        status.stdout,
        /^sweep tiny \(local\): 4 cells, 4 done, 0 running, 0 failed, 0 pending/,
      );
      const again = await sweepCli(["resume", dir]);
      assertEquals(again.code, 0, again.stderr);
      match(again.stdout, /nothing to resume/);
      const repeat = await sweepCli([file, "--root", root]);
      assertEquals(repeat.code, 1);
      match(repeat.stderr, /already exists \(continue it with deno task sweep resume /);
      const data = await writeReport(`${dir}/report.html`, await sweepRunDirs(dir));
      assertEquals(data.groups.map((g) => g.label.split(" · ")[1]), sweep.cells.map((c) => c.name));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "Ctrl-C stops a local sweep with checkpoints, and resume ends with the uninterrupted metrics",
  ignore: SKIP_GPU,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const file = `${root}/long.yaml`;
      await Deno.writeTextFile(file, LONG);
      const whole = await sweepCli([file, "--root", `${root}/whole`, "--quiet"]);
      assertEquals(whole.code, 0, whole.stderr);
      // In its own process group, so that a Ctrl-C can be sent as a terminal sends it.
      const sweep = new Deno.Command(Deno.execPath(), {
        args: ["task", "sweep", file, "--root", root, "--plain"],
        cwd: REPO,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
        detached: true,
      }).spawn();
      const dir = `${root}/long`;
      const rows = async (name: string) =>
        (await readOr(`${dir}/runs/${name}/metrics.jsonl`)).split("\n").length - 1;
      await waitUntil(
        "both cells to log 2 rows",
        60_000,
        async () => await rows("000-lr-0.003") >= 2 && await rows("001-lr-0.001") >= 2,
      );
      // A terminal's Ctrl-C: SIGINT to the foreground group, `deno task` and the sweep process
      // (which so gets it twice: `deno task` forwards it too). Cells run in their own sessions.
      const kill = await new Deno.Command("kill", { args: ["-INT", "--", `-${sweep.pid}`] })
        .output();
      assert(kill.success, "kill -INT to the sweep's process group");
      const out = await sweep.output();
      const text = new TextDecoder().decode(out.stdout);
      // Contract of `deno task run`: SIGTERM → checkpoint and exit 75; the sweep then exits 75.
      assertEquals(out.code, 75, text + new TextDecoder().decode(out.stderr));
      match(text, /stopping: 2 running cells checkpoint and exit/);
      assert(!/killing the running cells/.test(text), "one Ctrl-C, delivered twice, is one stop");
      match(text, /000-lr-0\.003: checkpointed after .* \(exit 75\)/);
      const status = await sweepCli(["status", dir]);
      match(status.stdout, /2 cells, 0 done, 0 running, 0 failed, 0 pending, 2 interrupted/);
      const resumed = await sweepCli(["resume", dir, "--quiet"]);
      assertEquals(resumed.code, 0, resumed.stderr);
      match(await Deno.readTextFile(`${dir}/logs/cell-1.log`), /deno task run --resume /);
      assertEquals(await cellMetrics(dir), await cellMetrics(`${root}/whole/long`));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "deno task sweep on Slurm: a job array gives the local metrics, and a preempted cell resumes",
  ignore: SKIP_SLURM,
  async fn(t) {
    if (SLURM_MISSING) {
      throw new Error(`Slurm is needed in CI: ${SLURM_MISSING} (.ci/run installs it with apt)`);
    }
    const root = await Deno.makeTempDir();
    const cluster = await startSlurm({ gpus: 2 });
    try {
      await t.step("4 cells finish with the metrics and report of the local backend", async () => {
        const file = `${root}/tiny.yaml`;
        await Deno.writeTextFile(file, TINY);
        const local = await sweepCli([file, "--root", `${root}/local`, "--quiet"]);
        assertEquals(local.code, 0, local.stderr);
        const sub = await sweepCli(
          [file, "--root", `${root}/slurm`, "--backend", "slurm"],
          cluster.env,
        );
        const submitted = performance.now();
        assertEquals(sub.code, 0, sub.stderr);
        const jobId = sub.stdout.split("\n")[0];
        match(jobId, /^\d+$/);
        const dir = `${root}/slurm/tiny`;
        match(await Deno.readTextFile(`${dir}/slurm/sweep.sbatch`), /#SBATCH --array=0-3%2\n/);
        const firstLine = new Map<number, number>();
        await waitUntil("the 4 cells to exit", 180_000, async () => {
          for (let i = 0; i < 4; i++) {
            if (!firstLine.has(i) && (await readOr(`${dir}/logs/cell-${i}.log`)).includes("\n")) {
              firstLine.set(i, (performance.now() - submitted) / 1000);
            }
          }
          const s = await Promise.all([0, 1, 2, 3].map((i) => readCellStatus(dir, i)));
          return s.every((r) => r?.state === "exited");
        }, () => diagnose(cluster, dir, 4));
        for (let i = 0; i < 4; i++) {
          const s = await readCellStatus(dir, i);
          assertEquals(s?.state === "exited" && s.code, 0, await diagnose(cluster, dir, 4));
          assertEquals(s?.job, `${jobId}_${i}`);
        }
        console.log(
          `slurm: submission to first log line of cells 0-3: ${
            [0, 1, 2, 3].map((i) => `${firstLine.get(i)?.toFixed(2)} s`).join(", ")
          } (two at a time)`,
        );
        const status = await sweepCli(["status", dir], cluster.env);
        match(
          status.stdout,
          /^sweep tiny \(slurm\): 4 cells, 4 done, 0 running, 0 failed, 0 pending/,
        );
        assertEquals(await cellMetrics(dir), await cellMetrics(`${root}/local/tiny`));
        const report = await writeReport(`${dir}/report.html`, await sweepRunDirs(dir));
        const want = await writeReport(
          `${root}/local/tiny/report.html`,
          await sweepRunDirs(`${root}/local/tiny`),
        );
        const curves = (d: typeof report) => d.groups.map((g) => [g.label, g.band]);
        assertEquals(curves(report), curves(want));
      });

      await t.step(
        "a cell signalled with USR1 checkpoints, requeues itself and ends with the uninterrupted metrics",
        async () => {
          const file = `${root}/long.yaml`;
          await Deno.writeTextFile(file, LONG);
          const local = await sweepCli([file, "--root", `${root}/local`, "--quiet"]);
          assertEquals(local.code, 0, local.stderr);
          const sub = await sweepCli(
            [file, "--root", `${root}/slurm`, "--backend", "slurm"],
            cluster.env,
          );
          assertEquals(sub.code, 0, sub.stderr);
          const jobId = sub.stdout.split("\n")[0];
          const dir = `${root}/slurm/long`;
          const run = `${dir}/runs/001-lr-0.001`;
          const rows = async () => (await readOr(`${run}/metrics.jsonl`)).split("\n").length - 1;
          await waitUntil("cell 1 to log 3 rows", 60_000, async () => await rows() >= 3);
          // Slurm's time-limit warning, sent by hand: to the batch shell only (B: in --signal).
          const sig = await cluster.run("scancel", ["--batch", "--signal=USR1", `${jobId}_1`]);
          assert(sig.ok, sig.stderr);
          // Contract of `deno task run`: SIGTERM → finish the submitted work, checkpoint, exit 75.
          await waitUntil("cell 1 to exit", 60_000, async () => {
            const s = await readCellStatus(dir, 1);
            return s?.state === "exited";
          }, () => diagnose(cluster, dir, 2));
          const exited = await readCellStatus(dir, 1);
          assertEquals(
            exited?.state === "exited" && exited.code,
            75,
            `cell 1 must exit 75 ("resume me") after SIGTERM\n${await diagnose(cluster, dir, 2)}`,
          );
          const rowsAtStop = await readMetricsRows(run);
          const meta = (await readCheckpoint(`${run}/checkpoint.safetensors`)).metadata;
          // A stop may checkpoint between log points, never before the last row or at the end.
          const saved = Number(meta.envSteps);
          assert(saved >= rowsAtStop.at(-1)!.envSteps && saved < 16000, `checkpoint at ${saved}`);
          // The script requeued the task; Slurm holds a requeued job ~2 minutes (BeginTime).
          await waitUntil("the task to be requeued", 30_000, async () => {
            const q = await cluster.run("squeue", ["-h", "-r", "-j", jobId, "-o", "%i %T"]);
            return q.stdout.includes(`${jobId}_1 PENDING`);
          }, () => diagnose(cluster, dir, 2));
          const status = await sweepCli(["status", dir], cluster.env);
          match(status.stdout, new RegExp(`001-lr-0\\.001 +pending .* job ${jobId}_1 pending`));
          const release = await cluster.run("scontrol", [
            "update",
            `JobId=${jobId}_1`,
            "StartTime=now",
          ]);
          assert(release.ok, release.stderr);
          await waitUntil("both cells to finish", 120_000, async () => {
            const s = await Promise.all([0, 1].map((i) => readCellStatus(dir, i)));
            return s.every((r) => r?.state === "exited" && r.code === 0);
          }, () => diagnose(cluster, dir, 2));
          const log = await Deno.readTextFile(`${dir}/logs/cell-1.log`);
          match(log, /\(job \d+_1, attempt 1\)/);
          match(log, /\(job \d+_1, attempt 2\) at .*: deno task run --resume /);
          match(log, /requeueing \d+_1/);
          assert(!/Debugger listening/.test(log), "the cell never gets SIGUSR1");
          assertEquals(await cellMetrics(dir), await cellMetrics(`${root}/local/long`));
        },
      );
    } finally {
      await cluster.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});
