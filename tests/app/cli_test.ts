import { deepStrictEqual as assertEquals, match, ok as assert, throws } from "node:assert/strict";
import { DEFAULT_PRESET, parseRunArgs } from "../../app/run.ts";
import { SKIP_GPU } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net"];

/** Runs one of the CLIs (`run`, `eval`, `report`) like `deno task` does. */
async function cli(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, `app/${script}.ts`, ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("parseRunArgs() separates options from config overrides", () => {
  assertEquals(parseRunArgs(["p", "--algo.lr=1e-3", "--seeds", "3", "--root=x", "--plain"]), {
    help: false,
    list: false,
    config: "p",
    overrides: [["algo.lr", "1e-3"]],
    seeds: 3,
    resume: null,
    root: "x",
    progress: "plain",
  });
  assertEquals(parseRunArgs([]).config, null);
  throws(() => parseRunArgs(["--seeds", "0"]), /--seeds must be an integer >= 1, got "0"/);
  assertEquals(parseRunArgs(["--name", "x", "p"]).overrides, [["name", "x"]]);
  throws(() => parseRunArgs(["--numEnvs"]), /"--numEnvs" needs a value/);
  throws(() => parseRunArgs(["a.yaml", "b.yaml"]), /two configs given/);
  throws(() => parseRunArgs(["--resume", "runs/x", "--seed=2"]), /--resume continues a run/);
});

Deno.test("deno task run --help and --list print usage and the presets", async () => {
  const help = await cli("run", ["--help"]);
  assertEquals(help.code, 0);
  match(help.stdout, /^Usage: deno task run \[config.yaml \| preset\]/);
  const list = await cli("run", ["--list"]);
  assertEquals(list.code, 0);
  match(list.stdout, new RegExp(`^${DEFAULT_PRESET} \\(default\\)\\n`));
  match(list.stdout, /\n {2}source: {3}\S.*\n {2}expected: \S/);
});

Deno.test("deno task run fails with one clear line and writes nothing on bad input", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/bad.yaml`, "seed: [1, 2\nnumEnvs: 4\n");
    await Deno.writeTextFile(`${root}/unknown.yaml`, "algo: { name: random, lr: 0.1 }\n");
    const cases: [string[], RegExp][] = [
      [[`${root}/bad.yaml`], /^error: Cannot read config ".*bad.yaml": invalid YAML: /],
      [[`${root}/unknown.yaml`], /unknown key "algo.lr" \(allowed: name\)$/],
      [
        ["random_lbf", "--numEnvs=-4"],
        /"numEnvs" must be an integer between 1 and 1048576, got -4$/,
      ],
      [["random_lbf", "--log.interval=often"], /"log.interval" must be an integer, got "often"$/],
      [[`${root}/missing.yaml`], /^error: Cannot read config ".*missing.yaml": file not found$/],
      [
        ["no_such_preset"],
        /^error: Cannot find preset "no_such_preset": known presets are .*random_lbf/,
      ],
      [["--resume", `${root}/nothing`], /^error: Cannot resume ".*nothing": folder not found$/],
    ];
    for (const [args, want] of cases) {
      const r = await cli("run", [...args, "--root", `${root}/runs`]);
      assertEquals(r.code, 1, `exit code of ${args.join(" ")}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
      match(lines[0], want);
      assertEquals(r.stdout, "");
    }
    assertEquals(await entries(root), ["bad.yaml", "unknown.yaml"], "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "deno task run, eval and report work end to end on the random preset",
  ignore: SKIP_GPU,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const run = await cli("run", [
        "random_lbf",
        "--root",
        root,
        "--name=e2e",
        "--totalSteps=6400",
        "--log.interval=3200",
        "--plain",
      ]);
      assertEquals(run.code, 0, run.stderr);
      match(run.stdout, /e2e 6,400\/6,400 steps \(100%\)/);
      const dir = `${root}/e2e`;
      assertEquals(await entries(dir), [
        "checkpoint.safetensors",
        "config.yaml",
        "metrics.csv",
        "metrics.jsonl",
        "report.html",
      ]);
      const ev = await cli("eval", [`${dir}/checkpoint.safetensors`, "--episodes", "4"]);
      assertEquals(ev.code, 0, ev.stderr);
      match(ev.stdout, /--- step 0 {2}reward 0\.000 0\.000\nstep 0 episode 0\n/);
      match(ev.stdout, /random on Foraging-8x8-2p-2f-coop: \d+ episodes/);
      match(ev.stdout, /agent 0: mean return \d\.\d{4}\n {2}agent 1: mean return/);
      assert((await Deno.readTextFile(`${dir}/replay.html`)).includes("const frames = ["));
      const rep = await cli("report", [dir, "--out", `${root}/cmp.html`]);
      assertEquals(rep.code, 0, rep.stderr);
      match(rep.stdout, /report: .*cmp.html \(1 runs, 1 seeds\)/);
      const again = await cli("run", ["--root", root, "--name=e2e", "--totalSteps=640"]);
      assertEquals(again.code, 1);
      match(again.stderr, /^error: Cannot start run "e2e": folder ".*e2e" already exists/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** Waits until `path` has at least `n` lines (or throws after `ms`). */
async function waitForLines(path: string, n: number, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      if ((await Deno.readTextFile(path)).split("\n").filter(Boolean).length >= n) return;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} did not reach ${n} lines in ${ms} ms`);
}

Deno.test({
  name: "a killed run resumes from its last checkpoint and Ctrl-C checkpoints before stopping",
  ignore: SKIP_GPU,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const spawn = (args: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", ...PERMS, "app/run.ts", ...args],
          cwd: REPO,
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).spawn();
      const dir = `${root}/k`;
      const total = 64 * 50 * 400; // far more than the test waits for
      const first = spawn([
        "--root",
        root,
        "--name=k",
        `--totalSteps=${total}`,
        "--log.interval=3200",
        "--log.checkpointEvery=6400",
        "--plain",
      ]);
      await waitForLines(`${dir}/metrics.jsonl`, 3);
      first.kill("SIGKILL");
      await first.output();
      const ckpt = (await Deno.readFile(`${dir}/checkpoint.safetensors`)).length;
      assert(ckpt > 0, "a checkpoint survived the kill");

      const second = spawn(["--resume", dir, "--plain"]);
      await waitForLines(`${dir}/metrics.jsonl`, 8);
      second.kill("SIGINT");
      const out = await second.output();
      assertEquals(out.code, 130, new TextDecoder().decode(out.stderr));
      match(
        new TextDecoder().decode(out.stdout),
        /k: stopped at \d+ env steps; continue with --resume /,
      );
      match(
        new TextDecoder().decode(out.stderr),
        /interrupted: checkpointing at the next log point/,
      );
      const text = await Deno.readTextFile(`${dir}/metrics.jsonl`);
      const steps = text.trim().split("\n").map((l) => JSON.parse(l).envSteps);
      assertEquals(
        steps,
        steps.map((_, i) => 3200 * (i + 1)),
        "rows continue without gaps or repeats",
      );
      const { readCheckpoint } = await import("../../app/checkpoint.ts");
      const meta = (await readCheckpoint(`${dir}/checkpoint.safetensors`)).metadata;
      assertEquals(Number(meta.envSteps), steps.at(-1), "Ctrl-C checkpoints at the last row");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
