import { deepStrictEqual as assertEquals, match, ok as assert, throws } from "node:assert/strict";
import { parseConfig } from "../../app/config.ts";
import { estimateRun, formatEstimate, REFERENCE_COSTS } from "../../app/estimate.ts";
import { formatSteps, presetDetailsText, presetTableText } from "../../app/preset_list.ts";
import { findPreset, listPresets } from "../../app/presets.ts";
import { DEFAULT_PRESET, parseRunArgs, RESUME_EXIT_CODE } from "../../app/run.ts";
import { SKIP_GPU } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net"];

/** Runs one of the CLIs (`run`, `eval`, `report`) like `deno task` does. */
async function cli(script: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, `app/${script}.ts`, ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
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
    calibrate: false,
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

Deno.test("deno task run --help, --list and --list NAME print usage, the table and details", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const help = await cli("run", ["--help"]);
    assertEquals(help.code, 0);
    match(help.stdout, /^Usage: deno task run \[config.yaml \| preset\]/);
    const list = await cli("run", ["--list"], { MARL_WEBGPU_CACHE: cache });
    assertEquals(list.code, 0, list.stderr);
    match(list.stdout, /^preset +algorithm +env task +env steps +est\. time\n-+ +-+ +-+ +-+ +-+\n/);
    match(
      list.stdout,
      new RegExp(
        `\n${DEFAULT_PRESET} \\(default\\) +seac +Foraging-5x5-2p-1f +240k +\\d+(s|min)\n`,
      ),
    );
    match(list.stdout, /\ndials_warehouse_4 +dials +warehouse-4 +4M +≥[\d.]+(h|d|mo)\n/);
    match(list.stdout, /\nTimes: estimated on .+\n\d+ of \d+ presets take over an hour here/);
    const rows = list.stdout.split("\n").filter((l) =>
      /^[a-z]\w+ /.test(l) && !l.startsWith("preset ")
    );
    assertEquals(rows.length, (await listPresets()).length, "one row per preset");
    const one = await cli("run", ["--list", "seac_rware_tiny_4ag"], { MARL_WEBGPU_CACHE: cache });
    assertEquals(one.code, 0, one.stderr);
    match(one.stdout, /^seac_rware_tiny_4ag\n\n {2}\S/);
    match(one.stdout, /\nsource {6}Christianos/);
    match(one.stdout, /\nexpected {4}45\.11 ± 2\.90 \(paper Table 1/);
    match(one.stdout, /\nest\. time {3}\S+ \(~[\d,.]+ env steps\/s, evaluations included/);
    match(one.stdout, /\nshorter {5}--totalSteps=\d+ runs about an hour here\n/);
    match(one.stdout, /\nrun {9}deno task run seac_rware_tiny_4ag\n$/);
    const unknown = await cli("run", ["--list", "nope"], { MARL_WEBGPU_CACHE: cache });
    assertEquals(unknown.code, 1);
    match(unknown.stderr, /^error: Cannot find preset "nope"/);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("presetTableText() lists every preset with its estimate under the given costs", async () => {
  const costs = { adapter: "test adapter", table: REFERENCE_COSTS, speed: 2, basis: "a test" };
  const text = await presetTableText(costs, { defaultPreset: DEFAULT_PRESET });
  const quick = await parseConfig((await findPreset(DEFAULT_PRESET)).text, { warn: () => {} });
  const want = formatEstimate(estimateRun(quick, REFERENCE_COSTS, { speed: 2 }));
  match(
    text,
    new RegExp(`\n${DEFAULT_PRESET} \\(default\\) +seac +Foraging-5x5-2p-1f +240k +${want}\n`),
  );
  match(text, /\nTimes: estimated on test adapter: a test\.\n/);
  match(text, /≥: lower bound \(influence-predictor training not counted\)/);
  const details = await presetDetailsText("random_lbf", costs);
  match(details, /\nalgorithm {3}random\nenv {9}Foraging-8x8-2p-2f-coop\nnumEnvs {5}64\n/);
  assert(!details.includes("shorter"), "no shortening hint for a short preset");
});

Deno.test("formatSteps() and formatEstimate() are compact", () => {
  assertEquals([800, 64_000, 240_000, 1_500_000, 50_000_000].map(formatSteps), [
    "800",
    "64k",
    "240k",
    "1.5M",
    "50M",
  ]);
  assertEquals(
    [20, 600, 3 * 3600, 20 * 3600, 5 * 86400, 400 * 86400].map((seconds) =>
      formatEstimate({ seconds, lowerBound: false })
    ),
    ["20s", "10min", "3.0h", "20h", "5.0d", "13mo"],
  );
  assertEquals(formatEstimate({ seconds: 7200, lowerBound: true }), "≥2.0h");
  assertEquals(formatEstimate(null), "?");
});

Deno.test("deno task run fails with one clear line and writes nothing on bad input", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/bad.yaml`, "seed: [1, 2\nnumEnvs: 4\n");
    await Deno.writeTextFile(`${root}/unknown.yaml`, "algo: { name: random, lr: 0.1 }\n");
    await Deno.mkdir(`${root}/folder.yaml`);
    const cases: [string[], RegExp][] = [
      [
        [`${root}/folder.yaml`],
        /^error: Cannot read config ".*folder.yaml": it is a directory, not a file \(give a file in it\)$/,
      ],
      [
        ["seac_quick", "--algo.name=idqn", "--algo.nSteps=3"],
        /^error: Cannot read config "seac_quick \(preset\)": unknown key "algo.nSteps"/,
      ],
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
    assertEquals(
      await entries(root),
      ["bad.yaml", "folder.yaml", "unknown.yaml"],
      "nothing written",
    );
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
        "metadata.json",
        "metrics.csv",
        "metrics.jsonl",
        "report.html",
      ]);
      const ev = await cli("eval", [`${dir}/checkpoint.safetensors`, "--episodes", "4"]);
      assertEquals(ev.code, 0, ev.stderr);
      match(ev.stdout, /--- step 0 {2}reward 0\.000 0\.000\nstep 0 episode 0\n/);
      match(ev.stdout, /random on Foraging-8x8-2p-2f-coop: \d+ episodes/);
      match(ev.stdout, /agent 0: mean return \d\.\d{4}\n {2}agent 1: mean return/);
      assert(
        (await Deno.readTextFile(`${dir}/replay.html`)).includes("<canvas"),
        "a canvas replay",
      );
      const rep = await cli("report", [dir, "--out", `${root}/cmp.html`]);
      assertEquals(rep.code, 0, rep.stderr);
      match(rep.stdout, /report: .*cmp.html \(1 runs, 1 seeds\)/);
      const again = await cli("run", ["--root", root, "--name=e2e", "--totalSteps=640"]);
      assertEquals(again.code, 1);
      match(
        again.stderr,
        /^(warning: .*\n)*error: Cannot start run "e2e": folder ".*e2e" already exists/,
      );
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
      assertEquals(out.code, RESUME_EXIT_CODE, new TextDecoder().decode(out.stderr));
      match(
        new TextDecoder().decode(out.stdout),
        /k: stopped at \d+ env steps; continue with --resume /,
      );
      match(
        new TextDecoder().decode(out.stderr),
        /SIGINT: checkpointing after the running slice, then exit 75/,
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
      // The stop comes between two slices: the checkpoint holds the state there (at or after the
      // last row), metric accumulators included, so the next row is the uninterrupted one.
      assert(Number(meta.envSteps) >= steps.at(-1)!, "Ctrl-C checkpoints at or after the last row");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "overrides warn: a log interval above totalSteps is clamped and --algo.name drops keys",
  ignore: SKIP_GPU,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const run = await cli("run", [
        "random_lbf",
        "--root",
        root,
        "--name=clamp",
        "--totalSteps=3200",
        "--quiet",
      ]);
      assertEquals(run.code, 0, run.stderr);
      assertEquals(run.stderr.trim().split("\n"), [
        "warning: log.interval 6400 is above totalSteps 3200: using 3200",
        "warning: log.checkpointEvery 32000 is above totalSteps 3200: using 3200",
      ]);
      const rows = (await Deno.readTextFile(`${root}/clamp/metrics.jsonl`)).trim().split("\n");
      assertEquals(rows.map((r) => JSON.parse(r).envSteps), [3200], "the row still appears");
      match(await Deno.readTextFile(`${root}/clamp/config.yaml`), /\nlog:\n {2}interval: 3200\n/);
      const swap = await cli("run", [
        "seac_quick",
        "--root",
        root,
        "--name=swap",
        "--algo.name=iql",
        "--totalSteps=640",
        "--log.interval=320",
        "--quiet",
      ]);
      assertEquals(swap.code, 0, swap.stderr);
      match(
        swap.stderr,
        /^warning: --algo\.name=iql: dropped algo\.foreignTarget, algo\.nSteps, algo\.entropyCoef, algo\.valueCoef, algo\.hidden from the config \(iql has no such settings\); kept the config's algo\.lambda/,
      );
      match(await Deno.readTextFile(`${root}/swap/config.yaml`), /\nalgo:\n {2}name: iql\n/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
