// Pinned presets: every preset in app/presets/ against the settings of the paper or reference it
// reproduces. The values below are written from docs/algorithms/*.md and docs/results/papers.md
// (which quote the papers' hyper-parameter tables and the reference configs), NOT from the preset
// files: a changed value in any preset (or in the registry defaults it relies on) fails here with
// the preset, the key, its value and the source of the pinned value. Runs without a GPU.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parse as parseYamlText } from "yaml";
import { type ExperimentConfig, parseConfig } from "../../app/config.ts";
import { findPreset, listPresets, type Preset, PRESET_DIR } from "../../app/presets.ts";

/** One pinned setting: `path` (dotted, as in configs) has `value` in every preset `presets` matches. */
interface Pin {
  presets: RegExp;
  path: string;
  value: unknown;
  source: string;
}

/** One row per (path, value) of `values`, all for the presets `presets` matches. */
function pins(presets: RegExp, source: string, values: Record<string, unknown>): Pin[] {
  return Object.entries(values).map(([path, value]) => ({ presets, path, value, source }));
}

// ---------------------------------------------------------------------------------------------
// SEAC, IAC, SNAC (Christianos et al. 2020)

const SEAC_TABLE2 = "SEAC paper Table 2 / uoe-agents/seac, docs/algorithms/seac.md §1";
const SEAC_BUDGETS = "uoe-agents/seac seac/configs/*.yaml, docs/algorithms/seac.md §4, " +
  "docs/results/papers.md §1.5";
const LBF_SEAC_CODE = "semitable/seac seac/configs/foraging*.yaml (Foraging-*-v0, TimeLimit 25), " +
  "docs/envs/lbf.md §2.1, docs/algorithms/seac.md §9";
/** The eight SEAC tasks: preset suffix → env id and the reference's budget [env steps]. */
const SEAC_TASKS: [suffix: string, env: string, budget: number][] = [
  ["lbf_10x10_3p_3f", "Foraging-10x10-3p-3f", 50_000_000],
  ["lbf_12x12_2p_1f", "Foraging-12x12-2p-1f", 50_000_000],
  ["lbf_15x15_3p_4f", "Foraging-15x15-3p-4f", 50_000_000],
  ["lbf_8x8_2p_2f_coop", "Foraging-8x8-2p-2f-coop", 50_000_000],
  ["rware_tiny_2ag", "rware-tiny-2ag", 80_000_000],
  ["rware_tiny_2ag_hard", "rware-tiny-2ag-hard", 120_000_000],
  ["rware_tiny_4ag", "rware-tiny-4ag", 40_000_000],
  ["rware_small_4ag", "rware-small-4ag", 150_000_000],
];
const SEAC_PAPER = /^(seac|iac|snac)_(lbf|rware)_/;
/** The A2C settings every actor-critic paper preset uses (Table 2). */
const A2C = {
  numEnvs: 4,
  "algo.nSteps": 5,
  "algo.gamma": 0.99,
  "algo.lr": 3e-4,
  "algo.adamEps": 1e-3,
  "algo.maxGradNorm": 0.5,
  "algo.entropyCoef": 0.01,
  "algo.valueCoef": 0.5,
  "algo.hidden": 64,
};

const SEAC_PINS: Pin[] = [
  ...pins(SEAC_PAPER, SEAC_TABLE2, A2C),
  ...pins(
    /^seac_(lbf|rware)_/,
    "SEAC paper §4 (λ = 1) and the reference's foreign returns, " +
      "docs/algorithms/seac.md §2",
    { "algo.lambda": 1, "algo.foreignTarget": "collectorReturn" },
  ),
  ...SEAC_TASKS.flatMap(([suffix, env, budget]) => [
    ...pins(new RegExp(`^(seac|iac|snac)_${suffix}$`), SEAC_BUDGETS, {
      "env.name": env,
      totalSteps: budget,
    }),
  ]),
  ...pins(/^(seac|iac|snac)_lbf_/, LBF_SEAC_CODE, {
    "env.maxEpisodeSteps": 25,
    "env.timeLimit": "truncate",
    "env.foodLevels": "v0",
  }),
  // The demo preset: Table 2 except 32 envs, hidden 32, lr 3e-3.
  ...pins(/^seac_quick$/, "docs/algorithms/seac.md §7 (demo: 32 envs, hidden 32, lr 3e-3)", {
    numEnvs: 32,
    totalSteps: 240_000,
    "env.name": "Foraging-5x5-2p-1f",
    "algo.hidden": 32,
    "algo.lr": 3e-3,
  }),
  ...pins(/^seac_quick$/, SEAC_TABLE2, {
    "algo.nSteps": 5,
    "algo.gamma": 0.99,
    "algo.adamEps": 1e-3,
    "algo.maxGradNorm": 0.5,
    "algo.entropyCoef": 0.01,
    "algo.valueCoef": 0.5,
    "algo.lambda": 1,
    "algo.foreignTarget": "collectorReturn",
  }),
  ...pins(/^random_lbf$/, "docs/algorithms/seac.md §7 (chance baseline, 64 k steps, 64 envs)", {
    "env.name": "Foraging-8x8-2p-2f-coop",
    totalSteps: 64_000,
    numEnvs: 64,
  }),
];

// ---------------------------------------------------------------------------------------------
// The RLlib DDQN of SUPER and the LBS comparison (mgerstgrasser/super config_pursuit_dqn)

const RLLIB = "mgerstgrasser/super config_pursuit_dqn (RLlib 2.0), docs/algorithms/idqn.md §4.1";
const PURSUIT_RUN = "SUPER and LBS papers (Pursuit, 800 k env steps), docs/algorithms/idqn.md " +
  "§4.1; 8 parallel envs, idqn.md §9";
const PURSUIT =
  /^(idqn_ddqn_pursuit|idqn_pursuit_lbs|idqn_same_rb_pursuit_lbs|ps_pursuit_lbs|lbs_pursuit|super_\w+_pursuit)$/;
const LBS_COMPARISON = /^(idqn_pursuit_lbs|idqn_same_rb_pursuit_lbs|ps_pursuit_lbs|lbs_pursuit)$/;
const SUPER = /^super_\w+_pursuit$/;

const DQN_PINS: Pin[] = [
  ...pins(PURSUIT, PURSUIT_RUN, { numEnvs: 8, totalSteps: 800_000, "env.name": "pursuit" }),
  ...pins(PURSUIT, RLLIB, {
    "algo.conv": [32, 64, 64],
    "algo.kernel": 2,
    "algo.dense": [64],
    "algo.embed": 256,
    "algo.dueling": true,
    "algo.headHidden": 256,
    "algo.headInit": "xavierZero",
    "algo.double": true,
    "algo.gamma": 0.99,
    "algo.loss": "huber",
    "algo.lr": 1.6e-4,
    "algo.adamEps": 1e-8,
    "algo.maxGradNorm": 40,
    "algo.batchSize": 32,
    "algo.bufferSize": 120_000,
    "algo.stepsPerUpdate": 4,
    "algo.learningStarts": 1000,
    "algo.targetEvery": 1000,
    "algo.tau": 1,
    "algo.epsilonSchedule": "linear",
    "algo.epsilonStart": 0.1,
    "algo.epsilonEnd": 0.001,
    "algo.epsilonSteps": 100_000,
    "algo.randomSteps": 0,
    "algo.bootstrapOnTerminal": false,
    "algo.truncationIsTerminal": true,
  }),
  // SUPER and its DDQN baseline keep RLlib's prioritized replay.
  ...pins(/^(idqn_ddqn_pursuit|super_\w+_pursuit)$/, RLLIB + " (PER, §5)", {
    "algo.prioritized": true,
    "algo.alpha": 0.6,
    "algo.beta": 0.4,
    "algo.priorityEps": 1e-6,
    "algo.arrivalPriority": 1,
  }),
  // The LBS comparison: one DQN for all four, uniform replay.
  ...pins(
    LBS_COMPARISON,
    "LBS paper §3 and App. B (p1 uniform, identical DQN settings), " +
      "docs/algorithms/lbs.md §4, docs/algorithms/idqn.md §7.1",
    { "algo.prioritized": false },
  ),
  ...pins(/^lbs_pursuit$/, "LBS paper §3 (p2 ∝ |δ|), docs/algorithms/lbs.md §2.3–§2.4", {
    "algo.p2": "td",
    "algo.priorityClip": 0,
  }),
  ...pins(SUPER, "mgerstgrasser/super configs.txt (run list), docs/algorithms/super.md §3.4", {
    "algo.window": 1500,
    "algo.gaussianScale": "variance",
    "algo.stochasticNormaliser": "batch",
    "algo.stochasticAlpha": 1,
  }),
  ...pins(/^super_quantile_pursuit$/, "docs/algorithms/super.md §3.1, §3.4", {
    "algo.mode": "quantile",
    "algo.bandwidth": 0.1,
  }),
  ...pins(/^super_gaussian_pursuit$/, "docs/algorithms/super.md §3.2, §3.4", {
    "algo.mode": "gaussian",
    "algo.bandwidth": 0.1,
  }),
  ...pins(/^super_stochastic_pursuit$/, "docs/algorithms/super.md §3.3, §3.4", {
    "algo.mode": "stochastic",
    "algo.bandwidth": 0.1,
  }),
  ...pins(
    /^super_share_all_pursuit$/,
    "share-all: Gaussian rule at bandwidth 1, " +
      "docs/algorithms/idqn.md §4.5, docs/algorithms/super.md §5",
    {
      "algo.mode": "gaussian",
      "algo.bandwidth": 1,
    },
  ),
];

// ---------------------------------------------------------------------------------------------
// SEQL and IQL (SEAC paper App. D, uoe-agents/seac seql/)

const SEQL_CODE = "SEAC paper App. D / uoe-agents/seac seql/, docs/algorithms/idqn.md §4.4";
const SEQL_RUNS = "docs/algorithms/idqn.md §8 (SEQL vs IQL protocol) and §9";
const SEQL_PINS: Pin[] = [
  ...pins(/^(seql|iql)_(lbf|rware)$/, SEQL_CODE, {
    "algo.conv": [],
    "algo.dense": [128, 128],
    "algo.embed": 0,
    "algo.headHidden": 0,
    "algo.headInit": "torchDefault",
    "algo.dueling": false,
    "algo.double": false,
    "algo.loss": "mse",
    "algo.maxGradNorm": 0.5,
    "algo.prioritized": false,
    "algo.stepsPerUpdate": 1,
    "algo.learningStarts": 5000,
    "algo.randomSteps": 5000,
    "algo.tau": 0.05,
    "algo.epsilonSchedule": "multiplicative",
    "algo.epsilonStart": 1,
    "algo.epsilonEnd": 0.01,
    "algo.bootstrapOnTerminal": true,
    "algo.lambda": 1,
  }),
  ...pins(/^(seql|iql)_(lbf|rware)$/, SEQL_RUNS, { numEnvs: 8 }),
  ...pins(/^(seql|iql)_lbf$/, SEQL_RUNS, {
    "env.name": "Foraging-10x10-3p-3f",
    totalSteps: 3_000_000,
    "algo.epsilonSteps": 2_400_000,
  }),
  ...pins(/^(seql|iql)_lbf$/, SEQL_CODE + " (lr 1e-4, buffer 1e6)", {
    "algo.lr": 1e-4,
    "algo.bufferSize": 1_000_000,
  }),
  ...pins(
    /^(seql|iql)_lbf$/,
    "uoe-agents/seac seql/ max_episode_len 25 on Foraging-*-v0, " +
      "docs/envs/lbf.md §2.1, docs/algorithms/idqn.md §9",
    {
      "env.maxEpisodeSteps": 25,
      "env.timeLimit": "truncate",
      "env.foodLevels": "v0",
    },
  ),
  // The reference floors 128 // N per buffer: 42 × 3 = 126 for SEQL's 3 agents.
  ...pins(/^seql_lbf$/, SEQL_CODE + " (batch 128 // 3 × 3)", { "algo.batchSize": 126 }),
  ...pins(/^(iql_lbf|seql_rware|iql_rware)$/, SEQL_CODE, { "algo.batchSize": 128 }),
  ...pins(
    /^(seql|iql)_rware$/,
    SEQL_RUNS + " (lr 5e-5, 10 M steps, ε at 0.01 after 8 M, " +
      "200 000-slot rings)",
    {
      "env.name": "rware-tiny-4ag",
      totalSteps: 10_000_000,
      "algo.lr": 5e-5,
      "algo.epsilonSteps": 8_000_000,
      "algo.bufferSize": 200_000,
    },
  ),
];

// ---------------------------------------------------------------------------------------------
// DIALS, untrained-DIALS and the GS baseline (Suau et al. 2022)

const DIALS_PPO = "miguelsuau/recurrent_policies PPO as INFLUENCEorg/DIALS runs it " +
  "(configs/default.yaml), docs/algorithms/dials.md §6";
const DIALS_ALL = /^(dials|untrained_dials|ppo_gs)_(traffic|warehouse)_/;
const WAREHOUSE = /^(dials|untrained_dials|ppo_gs)_warehouse_/;
const TRAFFIC = /^(dials|untrained_dials|ppo_gs)_traffic_/;
const DIALS_LS = /^(dials|untrained_dials)_(traffic|warehouse)_/;
const WAREHOUSE_AIP = "INFLUENCEorg/DIALS configs/warehouse/distributed.yaml at 72bc651 " +
  "(2022-05-25; every commit 01c8be2…6091c7a), docs/algorithms/dials.md §4, §8.7";
const TRAFFIC_AIP = "INFLUENCEorg/DIALS configs/traffic/DIALS.yaml, docs/algorithms/dials.md §4";

const DIALS_PINS: Pin[] = [
  ...pins(DIALS_ALL, "DIALS paper §5: 4 M steps per agent, docs/algorithms/dials.md §2", {
    totalSteps: 4_000_000,
  }),
  ...pins(DIALS_ALL, DIALS_PPO, {
    "algo.policy": "auto",
    "algo.epochs": 3,
    "algo.numMinibatches": 4,
    "algo.gamma": 0.99,
    "algo.lambda": 0.95,
    "algo.lr": 2.5e-4,
    "algo.lrEnd": 1e-10,
    "algo.clip": 0.1,
    "algo.clipEnd": 1e-5,
    "algo.valueCoef": 1,
    "algo.entropyCoef": 0.01,
    "algo.adamEps": 1e-8,
    "algo.hidden": 256,
    "algo.hidden2": 128,
  }),
  ...pins(WAREHOUSE, DIALS_PPO + " (warehouse: rollout 8, seq_len 8; 16 lanes × 8 = 128)", {
    numEnvs: 16,
    "algo.rolloutSteps": 8,
    "algo.seqLen": 8,
    "algo.gaeHorizon": 8,
  }),
  ...pins(TRAFFIC, DIALS_PPO + " (traffic: rollout 16, seq_len 1; 8 lanes × 16 = 128)", {
    numEnvs: 8,
    "algo.rolloutSteps": 16,
    "algo.seqLen": 1,
    "algo.gaeHorizon": 16,
  }),
  ...[4, 25, 49, 100].flatMap((n) => [
    ...pins(
      new RegExp(`^(dials|untrained_dials|ppo_gs)_warehouse_${n}(_f\\w+)?$`),
      "DIALS paper §5 scenarios, docs/algorithms/dials.md §7",
      { "env.name": `warehouse-${n}` },
    ),
    ...pins(
      new RegExp(`^(dials|untrained_dials|ppo_gs)_traffic_${n}(_f\\w+)?$`),
      "DIALS paper §5 scenarios, docs/algorithms/dials.md §7",
      { "env.name": `traffic-${n}` },
    ),
  ]),
  ...pins(
    /^ppo_gs_/,
    "independent learners as the paper describes; the reference's shared " +
      "policy object is gsPolicy shared, docs/algorithms/dials.md §8.6",
    {
      "algo.gsPolicy": "independent",
    },
  ),
  // The pipeline of DIALS and untrained-DIALS: AIPs, data, evaluation.
  ...pins(
    DIALS_LS,
    "docs/algorithms/dials.md §4, §7 (10 % test split; 100 GS copies, " +
      "evaluation every 100 K steps, 1 episode each)",
    {
      "algo.aipTestFraction": 0.1,
      "algo.gsEnvs": 100,
      "algo.evalFreq": 100_000,
      "algo.evalEpisodes": 1,
    },
  ),
  ...pins(/^(dials|untrained_dials)_warehouse_/, WAREHOUSE_AIP, {
    "algo.aipEpochs": 300,
    "algo.aipBatch": 32,
    "algo.aipLr": 1e-4,
    "algo.aipHidden": 64,
  }),
  ...pins(
    /^(dials|untrained_dials)_warehouse_/,
    "DIALS paper §5 (10 K warehouse samples), " +
      "docs/algorithms/dials.md §3, §8.3",
    { "algo.datasetSize": 10_000 },
  ),
  ...pins(/^(dials|untrained_dials)_traffic_/, TRAFFIC_AIP, {
    "algo.aipEpochs": 100,
    "algo.aipBatch": 120,
    "algo.aipLr": 1e-4,
    "algo.aipHidden": 128,
  }),
  ...pins(
    /^(dials|untrained_dials)_traffic_/,
    "DIALS paper §5 (80 K traffic samples), " +
      "docs/algorithms/dials.md §3, §8.3",
    { "algo.datasetSize": 80_000 },
  ),
  ...pins(/^dials_/, "DIALS trains its AIPs, docs/algorithms/dials.md §1", {
    "algo.trainAips": true,
  }),
  ...pins(
    /^untrained_dials_/,
    "untrained-DIALS never trains its AIPs, docs/algorithms/dials.md §4",
    {
      "algo.trainAips": false,
    },
  ),
  // F: main runs 1 M (traffic) and 4 M (warehouse, train once); the F study's values by name.
  ...pins(
    /^(dials|untrained_dials)_traffic_(4|25|49|100)$/,
    "DIALS paper Fig. 3 (F = 1 M), " +
      "docs/results/papers.md §4",
    { "algo.influenceTrainFreq": 1_000_000 },
  ),
  ...pins(
    /^(dials|untrained_dials)_warehouse_(4|25|49|100)$/,
    "DIALS paper Fig. 3 (F = 4 M), " +
      "docs/results/papers.md §4",
    { "algo.influenceTrainFreq": 4_000_000 },
  ),
  ...([["100k", 100_000], ["500k", 500_000], ["1m", 1_000_000], ["4m", 4_000_000]] as const)
    .flatMap(([tag, f]) =>
      pins(
        new RegExp(`^dials_(traffic|warehouse)_4_f${tag}$`),
        "DIALS paper Fig. 4 (F study " +
          "100 K, 500 K, 1 M, 4 M), docs/results/papers.md §4.3, docs/algorithms/dials.md §2",
        {
          "algo.influenceTrainFreq": f,
        },
      )
    ),
];

/** Every pinned setting, by family. */
const PINS: readonly Pin[] = [...SEAC_PINS, ...DQN_PINS, ...SEQL_PINS, ...DIALS_PINS];

/** Keys a preset may set without a pin (run bookkeeping, not a paper setting). */
const UNPINNED = /^(seed|name|log(\..*)?|eval(\..*)?|algo\.name|algo\.iterationsPerSubmit)$/;

/** The value at a dotted path of an effective config; `env.name` also reads a task-name `env`. */
function valueAt(cfg: ExperimentConfig, path: string): unknown {
  const root: Record<string, unknown> = {
    ...cfg,
    env: typeof cfg.env === "string" ? { name: cfg.env } : cfg.env,
  };
  let v: unknown = root;
  for (const k of path.split(".")) {
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v;
}

const show = (v: unknown) => JSON.stringify(v);

/** The pin violations of one preset's effective config, one message each. */
function pinProblems(preset: string, cfg: ExperimentConfig): string[] {
  const out: string[] = [];
  for (const pin of PINS.filter((p) => p.presets.test(preset))) {
    const got = valueAt(cfg, pin.path);
    if (show(got) !== show(pin.value)) {
      out.push(
        `preset "${preset}": ${pin.path} is ${show(got)}, pinned ${
          show(pin.value)
        } (source: ${pin.source})`,
      );
    }
  }
  return out;
}

/** Dotted paths of the keys a preset's YAML sets explicitly (env options and algo keys). */
function explicitPaths(text: string): string[] {
  const raw = parseYamlText(text) as Record<string, unknown>;
  const out: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const sub of Object.keys(v)) out.push(`${k}.${sub}`);
    } else {
      out.push(k === "env" ? "env.name" : k);
    }
  }
  return out;
}

async function presetConfigs(): Promise<[Preset, ExperimentConfig][]> {
  const all = await listPresets();
  return await Promise.all(
    all.map(async (p) =>
      [p, await parseConfig(p.text, { source: p.name })] as [Preset, ExperimentConfig]
    ),
  );
}

Deno.test("every app/presets/*.yaml is listed, found by name and parses with its header", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(PRESET_DIR)) {
    if (e.isFile && /\.ya?ml$/.test(e.name)) files.push(e.name.replace(/\.ya?ml$/, ""));
  }
  const listed = await listPresets();
  assertEquals(listed.map((p) => p.name), [...files].sort((a, b) => a.localeCompare(b)));
  for (const p of listed) {
    const found = await findPreset(p.name);
    assertEquals([found.name, found.text], [p.name, p.text]);
    assert(
      p.description && p.source && p.expected,
      `preset "${p.name}" states description, Source and Expected`,
    );
    const cfg = await parseConfig(p.text, { source: p.name });
    assertEquals(cfg.algo.name.length > 0, true);
  }
});

Deno.test("every preset is pinned by at least one row and every row pins some preset", async () => {
  const names = (await listPresets()).map((p) => p.name);
  const unpinned = names.filter((n) => !PINS.some((p) => p.presets.test(n)));
  assertEquals(unpinned, [], `presets without a pinned setting: ${unpinned.join(", ")}`);
  const dead = PINS.filter((p) => !names.some((n) => p.presets.test(n)));
  assertEquals(
    dead.map((p) => `${p.presets} ${p.path}`),
    [],
    "pins that match no preset (a renamed or removed preset?)",
  );
});

Deno.test("every preset's settings equal the pinned paper and reference values", async () => {
  const problems = (await presetConfigs()).flatMap(([p, cfg]) => pinProblems(p.name, cfg));
  assert(problems.length === 0, `${problems.length} pinned values differ:\n${problems.join("\n")}`);
});

Deno.test("every key a preset sets explicitly is pinned for that preset", async () => {
  const missing: string[] = [];
  for (const p of await listPresets()) {
    const mine = PINS.filter((pin) => pin.presets.test(p.name)).map((pin) => pin.path);
    for (const path of explicitPaths(p.text)) {
      if (!UNPINNED.test(path) && !mine.includes(path)) missing.push(`${p.name}: ${path}`);
    }
  }
  assert(
    missing.length === 0,
    `explicit preset keys without a pinned value:\n${missing.join("\n")}`,
  );
});

Deno.test("a changed preset value fails naming the preset, key, value and source", async () => {
  const p = await findPreset("dials_warehouse_4");
  const changed = p.text.replace(/^(\s+aipLr:).*$/m, "$1 0.001");
  assert(changed !== p.text, "the preset sets aipLr");
  const problems = pinProblems(p.name, await parseConfig(changed, { source: p.name }));
  assertEquals(problems.length, 1);
  for (const part of ['preset "dials_warehouse_4"', "algo.aipLr", "0.001", "0.0001", "72bc651"]) {
    assert(problems[0].includes(part), `"${problems[0]}" names ${part}`);
  }
  // A default an unpinned-looking preset relies on is pinned too: idqn_ddqn_pursuit sets no lr.
  const q = await findPreset("idqn_ddqn_pursuit");
  const withLr = q.text.replace(/^(\s+name: idqn)$/m, "$1\n  lr: 0.001");
  const more = pinProblems(q.name, await parseConfig(withLr, { source: q.name }));
  assert(
    more.some((m) => m.includes("algo.lr") && m.includes("config_pursuit_dqn")),
    more.join("\n"),
  );
});
