// Nothing lost, nothing silent: signals checkpoint mid-interval and exit 75, resume refuses a
// config that is not the checkpoint's and extends finished runs, non-finite state stops a run,
// a closed stdout does not stop training, and progress shows warm-up and a learning-phase ETA.
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { buildTrainer, NonFiniteError, trainLoop } from "../../app/train_loop.ts";
import { train } from "../../app/train.ts";
import { validateConfig } from "../../app/config.ts";
import { createProgress } from "../../app/progress.ts";
import { readMetricsRows, RUN_FILES } from "../../app/run_files.ts";
import { RESUME_EXIT_CODE } from "../../app/run.ts";
import { gpuTest, SKIP_GPU } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net"];

/** Rows without their timing fields. */
function deterministic(rows: { wallSeconds: number; stepsPerSecond: number }[]) {
  return rows.map(({ wallSeconds: _w, stepsPerSecond: _s, ...rest }) => rest);
}

/** `deno task run` as a child process; `args` after the script. */
function spawnRun(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, "app/run.ts", ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function finish(child: Deno.ChildProcess) {
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const RUN = [
  "seac_quick",
  "--numEnvs=4",
  "--totalSteps=24000",
  "--log.interval=12000",
  "--log.checkpointEvery=12000",
  "--eval.interval=0",
  "--plain",
];

for (const signal of ["SIGTERM", "SIGUSR1"] as const) {
  Deno.test({
    name:
      `${signal} checkpoints mid-interval, exits ${RESUME_EXIT_CODE}, and --resume ends like an uninterrupted run`,
    ignore: SKIP_GPU,
    async fn() {
      const root = await Deno.makeTempDir();
      try {
        const whole = await finish(spawnRun([...RUN, "--root", root, "--name=whole"]));
        assertEquals(whole.code, 0, whole.stderr);
        const child = spawnRun([...RUN, "--root", root, "--name=cut"]);
        // Wait for the first row (training is under way), then signal inside the next interval.
        const dir = `${root}/cut`;
        for (let i = 0; i < 600 && (await readMetricsRows(dir)).length === 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 300));
        child.kill(signal);
        const cut = await finish(child);
        if (cut.code === 0) {
          // The run outran the signal on a fast adapter: nothing to resume, nothing to check.
          console.log(`${signal}: run finished before the signal; skipping the resume check`);
          return;
        }
        assertEquals(cut.code, RESUME_EXIT_CODE, cut.stderr);
        match(cut.stderr, new RegExp(`${signal}: checkpointing`));
        assert((await Deno.stat(`${dir}/${RUN_FILES.checkpoint}`)).isFile);
        const resumed = await finish(spawnRun(["--resume", dir, "--plain"]));
        assertEquals(resumed.code, 0, resumed.stderr);
        assertEquals(
          deterministic(await readMetricsRows(dir)),
          deterministic(await readMetricsRows(`${root}/whole`)),
        );
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}

const SMALL = {
  seed: 3,
  env: "Foraging-5x5-2p-1f",
  numEnvs: 4,
  totalSteps: 800,
  algo: { name: "seac", hidden: 16 },
  log: { interval: 400, checkpointEvery: 400 },
  eval: { interval: 0 },
};

gpuTest(
  "resume refuses an edited config.yaml and another run's checkpoint, naming the setting",
  async (engine) => {
    const root = await Deno.makeTempDir();
    try {
      const a = await train({ ...SMALL, name: "a" }, {
        root,
        engine,
        progress: "off",
        report: false,
      });
      // An edited config.yaml.
      const yaml = `${a.dir}/${RUN_FILES.config}`;
      await Deno.writeTextFile(
        yaml,
        (await Deno.readTextFile(yaml)).replace(/hidden: 16/, "hidden: 32"),
      );
      await train(undefined, { root, engine, progress: "off", resume: a.dir }).then(
        () => assert(false, "resumed with an edited config.yaml"),
        (e) =>
          match(
            (e as Error).message,
            /config\.yaml differs from the checkpoint's config: algo\.hidden: 32 in config\.yaml, 16 in the checkpoint/,
          ),
      );
      // A SEAC checkpoint copied into an IQL run folder.
      const iql = await train(
        { ...SMALL, name: "iql", algo: { name: "iql" } },
        { root, engine, progress: "off", report: false, stopAt: 1 },
      );
      const b = await train({ ...SMALL, name: "b" }, {
        root,
        engine,
        progress: "off",
        report: false,
      });
      await Deno.copyFile(`${b.dir}/${RUN_FILES.checkpoint}`, `${iql.dir}/${RUN_FILES.checkpoint}`);
      await train(undefined, { root, engine, progress: "off", resume: iql.dir }).then(
        () => assert(false, "resumed another algorithm's checkpoint"),
        (e) =>
          match(
            (e as Error).message,
            /algo\.name: "iql" in config\.yaml, "seac" in the checkpoint/,
          ),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

gpuTest(
  "--resume with --totalSteps extends a finished run like a longer uninterrupted one",
  async (engine) => {
    const root = await Deno.makeTempDir();
    try {
      const long = await train(
        { ...SMALL, name: "long", totalSteps: 1600 },
        { root, engine, progress: "off", report: false },
      );
      const short = await train({ ...SMALL, name: "short" }, {
        root,
        engine,
        progress: "off",
        report: false,
      });
      assert(short.seeds[0].finished);
      const more = await train(undefined, {
        root,
        engine,
        progress: "off",
        report: false,
        resume: short.dir,
        overrides: [["totalSteps", "1600"]],
      });
      assert(more.seeds[0].finished);
      assertEquals(more.seeds[0].config.totalSteps, 1600);
      match(await Deno.readTextFile(`${short.dir}/${RUN_FILES.config}`), /totalSteps: 1600/);
      assertEquals(
        deterministic(await readMetricsRows(short.dir)),
        deterministic(await readMetricsRows(long.dir)),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

gpuTest(
  "a non-finite parameter stops the loop at the next log point, naming the tensor",
  async (engine) => {
    const config = validateConfig({ ...SMALL, totalSteps: 1600 });
    const trainer = await buildTrainer(engine, config);
    const params = trainer.stateTensors()["net.params"];
    let rows = 0;
    try {
      await trainLoop(trainer, config, {
        engine,
        onRow() {
          rows++;
          engine.write(params, [NaN, Infinity], 0); // corrupt the weights after the first row
        },
      });
      assert(false, "the loop went on with non-finite parameters");
    } catch (e) {
      assert(e instanceof NonFiniteError, String(e));
      assertEquals([rows, e.envSteps, e.groups[0].name], [1, 800, "net.params"]);
      match(e.message, /Non-finite values at 800 env steps: "net\.params" has \d+ NaN or infinite/);
    }
  },
);

Deno.test({
  name: "a run whose stdout is closed keeps training to the end",
  ignore: SKIP_GPU,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMS, "app/run.ts", ...RUN, "--root", root, "--name=piped"],
        cwd: REPO,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      // Like `| head -1`: read the first chunk, then close the pipe.
      const reader = child.stdout.getReader();
      await reader.read();
      await reader.cancel();
      const status = await child.status;
      const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
      assertEquals(status.code, 0, stderr);
      assertEquals((await readMetricsRows(`${root}/piped`)).length, 2);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("progress shows the replay warm-up, then an ETA from the learning phase", () => {
  let t = 0;
  const lines: string[] = [];
  const p = createProgress({
    total: 10_000,
    label: "r",
    live: false,
    write: (s) => lines.push(s),
    warmupSteps: 2_000,
    tickSeconds: 0,
    now: () => t,
  });
  p.status("building idqn on Foraging-5x5-2p-1f (compiling kernels) …");
  t = 1_000;
  p.tick(1_000); // warm-up runs fast (no learning)
  t = 1_500;
  p.tick(2_000); // learning starts here
  t = 3_500;
  p.tick(3_000); // 1,000 steps in 2 s: 500 steps/s, 7,000 left → 14 s
  assertEquals(lines[0], "r building idqn on Foraging-5x5-2p-1f (compiling kernels) …\n");
  assertEquals(lines[1], "r warming replay 1,000/2,000 steps\n");
  match(lines[3], /3,000\/10,000 steps \(30%\) {2}500 steps\/s .* ETA 14s\n$/);
});
