// Sweep files, their expansion into cells, the Slurm script and the Kubernetes manifest: no
// process, no GPU.
import { deepStrictEqual as assertEquals, match, rejects, throws } from "node:assert/strict";
import { parseSweepArgs } from "../../app/sweep.ts";
import { sweepRunDirs } from "../../app/sweep_files.ts";
import { k8sManifest } from "../../app/sweep_k8s.ts";
import { arrayRanges, slurmScript } from "../../app/sweep_slurm.ts";
import { cellRunArgs } from "../../app/sweep_cell.ts";
import { expandSweep, overrideText, validateSweep } from "../../app/sweep_spec.ts";
import { parseOverrideValue, parseScalar } from "../../app/config.ts";

const TINY = {
  name: "tiny",
  configs: "seac_quick",
  tasks: ["Foraging-5x5-2p-1f", "Foraging-8x8-2p-2f-coop"],
  grid: { "algo.lr": [0.003, 0.001] },
  overrides: { numEnvs: 4, totalSteps: 1200, log: { interval: 200 } },
  seeds: 2,
  parallel: 2,
  resources: { gpus: 1, cpus: 1, mem: "512M", time: "00:10:00" },
  slurm: { partition: "gpu", grace: 30, setup: ["module load cuda"] },
};

Deno.test("expandSweep() gives configs × tasks × grid cells, the last grid key fastest", async () => {
  const { sweep, configTexts } = await expandSweep(validateSweep(TINY, "x/tiny.yaml"), {
    baseDir: "x",
  });
  assertEquals(sweep.cells.map((c) => c.name), [
    "000-Foraging-5x5-2p-1f_lr-0.003",
    "001-Foraging-5x5-2p-1f_lr-0.001",
    "002-Foraging-8x8-2p-2f-coop_lr-0.003",
    "003-Foraging-8x8-2p-2f-coop_lr-0.001",
  ]);
  assertEquals(sweep.cells[3].overrides, [
    ["numEnvs", "4"],
    ["totalSteps", "1200"],
    ["log.interval", "200"],
    ["env", "Foraging-8x8-2p-2f-coop"],
    ["algo.lr", "0.001"],
  ]);
  assertEquals(sweep.cells.map((c) => [c.seeds, c.totalSteps, c.config]), [
    ...Array(4).fill([2, 1200, "configs/seac_quick.yaml"]),
  ]);
  assertEquals([...configTexts.keys()], ["configs/seac_quick.yaml"]);
  assertEquals(cellRunArgs("/s", sweep.cells[0]), [
    "/s/configs/seac_quick.yaml",
    "--numEnvs=4",
    "--totalSteps=1200",
    "--log.interval=200",
    "--env=Foraging-5x5-2p-1f",
    "--algo.lr=0.003",
    "--name=000-Foraging-5x5-2p-1f_lr-0.003",
    "--seeds",
    "2",
    "--root",
    "/s/runs",
  ]);
});

Deno.test("expandSweep() sets env.name when the config's env is a map of options", async () => {
  const files: Record<string, string> = {
    "d/lbf.yaml": "env: { name: Foraging-5x5-2p-1f, maxEpisodeSteps: 25 }\nalgo: { name: iac }\n",
  };
  const { sweep } = await expandSweep(
    validateSweep(
      { configs: ["lbf.yaml", "random_lbf"], tasks: ["Foraging-8x8-2p-2f-coop"] },
      "s.yaml",
    ),
    { baseDir: "d", readFile: (p) => Promise.resolve(files[p]) },
  );
  assertEquals(sweep.cells.map((c) => [c.name, c.overrides]), [
    ["000-lbf", [["env.name", "Foraging-8x8-2p-2f-coop"]]],
    ["001-random_lbf", [["env", "Foraging-8x8-2p-2f-coop"]]],
  ]);
});

Deno.test("expandSweep() rejects a cell whose config is invalid, naming the cell", async () => {
  const spec = validateSweep({ configs: "seac_quick", grid: { "algo.lrr": [1] } }, "s.yaml");
  await rejects(
    () => expandSweep(spec, { baseDir: "." }),
    /Cannot read config "seac_quick \(cell 0 "000-seac_quick"\)": .*"algo\.lrr"/,
  );
});

Deno.test("validateSweep() names unknown keys and wrong types by their path", () => {
  throws(
    () => validateSweep({ configs: "a", slurm: { partion: "gpu" }, seeds: 0 }, "s.yaml"),
    (e: Error) => {
      match(e.message, /^Cannot read sweep "s\.yaml": /);
      match(e.message, /unknown key "slurm\.partion"/);
      match(e.message, /"seeds" must be an integer >= 1, got 0/);
      return e instanceof TypeError;
    },
  );
  throws(() => validateSweep({ tasks: ["x"] }, "s.yaml"), /"configs" must name at least one/);
  throws(() => validateSweep({ configs: "a", grid: { "algo.lr": [] } }, "s.yaml"), /non-empty/);
  throws(() => validateSweep({ configs: "a", backend: "pbs" }, "s.yaml"), /"backend" must be/);
  assertEquals(validateSweep({ configs: "a" }, "dir/my-sweep.yml").name, "my-sweep");
});

Deno.test("overrideText() writes values (scalars, flat lists) that the CLI reads back unchanged", () => {
  for (const v of [3e-4, 1e-7, 12, -1.5, true, "Foraging-5x5-2p-1f", "true", "1e3", "a b"]) {
    assertEquals(parseScalar(overrideText(v)), v);
  }
  for (const v of [[], [64, 64], ["a", true, 1e-3]]) {
    assertEquals(parseOverrideValue(overrideText(v)), v);
  }
  throws(() => overrideText([[1]]), /expected a number, string, boolean or list of them/);
  throws(() => overrideText({ a: 1 }), /expected a number, string, boolean or list of them/);
});

Deno.test("parseSweepArgs() reads the sweep file, subcommands and options", () => {
  const a = parseSweepArgs(["s.yaml", "--backend", "slurm", "--parallel=3", "--dry-run"]);
  assertEquals([a.command, a.target, a.backend, a.parallel, a.dryRun], [
    "new",
    "s.yaml",
    "slurm",
    3,
    true,
  ]);
  assertEquals(parseSweepArgs(["status", "sweeps/x/"]).target, "sweeps/x");
  assertEquals(parseSweepArgs(["cell", "/s", "7"]).index, 7);
  throws(() => parseSweepArgs(["s.yaml", "--backend=pbs"]), /--backend must be local, slurm/);
  throws(() => parseSweepArgs(["status"]), /"status" takes one sweep folder/);
  throws(() => parseSweepArgs(["a.yaml", "b.yaml"]), /give one sweep file/);
  throws(() => parseSweepArgs(["s.yaml", "--paralel=2"]), /unknown option "--paralel"/);
});

Deno.test("arrayRanges() compresses cell indices into Slurm's --array syntax", () => {
  assertEquals(arrayRanges([0, 1, 2, 3]), "0-3");
  assertEquals(arrayRanges([5, 0, 1, 2, 9, 10]), "0-2,5,9-10");
  assertEquals(arrayRanges([4]), "4");
});

Deno.test("slurmScript() asks for the cell's resources, requeue and a USR1 warning, and parses", async () => {
  const { sweep } = await expandSweep(validateSweep(TINY, "tiny.yaml"), { baseDir: "." });
  const text = slurmScript(sweep, {
    dir: "/data/sweeps/tiny",
    repo: "/home/me/marl-webgpu",
    deno: "/home/me/.deno/bin/deno",
    indices: [0, 1, 3],
  });
  const sbatch = text.split("\n").filter((l) => l.startsWith("#SBATCH ")).map((l) => l.slice(8));
  assertEquals(sbatch, [
    "--job-name=tiny",
    "--array=0-1,3%2",
    "--output=/data/sweeps/tiny/logs/cell-%a.log",
    "--open-mode=append",
    "--ntasks=1",
    "--requeue",
    "--signal=B:USR1@30",
    "--partition=gpu",
    "--gres=gpu:1",
    "--cpus-per-task=1",
    "--mem=512M",
    "--time=00:10:00",
  ]);
  match(text, /\nmodule load cuda\n/);
  match(text, /DENO="\$\{DENO:-\/home\/me\/\.deno\/bin\/deno\}"/);
  match(text, /"\$DENO" run .* app\/sweep\.ts cell "\$SWEEP" "\$CELL" &/);
  match(text, /trap '.*kill -TERM "\$child".*' USR1/);
  match(text, /scontrol requeue "\$TASK"/);
  const file = await Deno.makeTempFile({ suffix: ".sh" });
  try {
    await Deno.writeTextFile(file, text);
    const check = await new Deno.Command("bash", { args: ["-n", file], stderr: "piped" }).output();
    assertEquals(new TextDecoder().decode(check.stderr), "");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("k8sManifest() is an Indexed Job whose exit 75 retries without counting", async () => {
  const { sweep } = await expandSweep(validateSweep(TINY, "tiny.yaml"), { baseDir: "." });
  const m = k8sManifest(sweep) as {
    spec: {
      completionMode: string;
      completions: number;
      parallelism: number;
      podFailurePolicy: { rules: { action: string; onExitCodes?: { values: number[] } }[] };
      template: { spec: { restartPolicy: string; containers: { command: string[] }[] } };
    };
  };
  assertEquals(
    [m.spec.completionMode, m.spec.completions, m.spec.parallelism],
    ["Indexed", 4, 2],
  );
  assertEquals(m.spec.podFailurePolicy.rules[0].action, "Ignore");
  assertEquals(m.spec.podFailurePolicy.rules[0].onExitCodes?.values, [75]);
  assertEquals(m.spec.template.spec.restartPolicy, "Never");
  assertEquals(m.spec.template.spec.containers[0].command.slice(-4), [
    "app/sweep.ts",
    "cell",
    "/sweeps/tiny",
    "$(JOB_COMPLETION_INDEX)",
  ]);
});

Deno.test("sweepRunDirs() lists a sweep's started cells and passes a run folder through", async () => {
  const root = await Deno.makeTempDir();
  try {
    const { sweep } = await expandSweep(validateSweep(TINY, "tiny.yaml"), { baseDir: "." });
    const { writeSweep } = await import("../../app/sweep_files.ts");
    await writeSweep(root, sweep);
    for (const c of [sweep.cells[0], sweep.cells[2]]) {
      await Deno.mkdir(`${root}/runs/${c.name}/seed-0`, { recursive: true });
      await Deno.writeTextFile(`${root}/runs/${c.name}/seed-0/config.yaml`, "seed: 1\n");
    }
    await Deno.mkdir(`${root}/runs/${sweep.cells[1].name}`, { recursive: true }); // no config
    assertEquals(await sweepRunDirs(`${root}/`), [
      `${root}/runs/${sweep.cells[0].name}`,
      `${root}/runs/${sweep.cells[2].name}`,
    ]);
    assertEquals(await sweepRunDirs(`${root}/runs/x`), [`${root}/runs/x`]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
