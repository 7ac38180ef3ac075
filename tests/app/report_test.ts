import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { configToYaml, parseConfig } from "../../app/config.ts";
import { replayHtml } from "../../app/eval.ts";
import { findPreset } from "../../app/presets.ts";
import {
  buildReport,
  defaultReportPath,
  loadRunGroup,
  meanStdBand,
  type ReportData,
  writeReport,
} from "../../app/report.ts";
import { expectedFor, parseExpected } from "../../app/report_reference.ts";
import { findRunDirs } from "../../app/report_runs.ts";
import { type MetricsRow, rowToJson } from "../../app/train.ts";
import { CHROMIUM } from "../_chromium.ts";
import { assertAllClose } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** Writes a run folder by hand (config + metrics), as train() would. */
async function fakeRun(
  dir: string,
  options: {
    algo: string;
    seeds: number[];
    curve: (step: number, seed: number) => number | null;
    /** Evaluations at every other row (value = curve + 1) with best-model tracking. */
    evaluated?: boolean;
    /** Metrics rows per seed (default 8, one per 100 steps). */
    rows?: number;
    /** Algorithm scalars per row. */
    scalars?: (step: number) => Record<string, number>;
    /** The config to write (default: a small one of `algo` on LBF 8x8). */
    config?: Record<string, unknown>;
    /** metadata.json to write into each seed folder. */
    metadata?: unknown;
  },
): Promise<void> {
  for (const seed of options.seeds) {
    const d = options.seeds.length > 1 ? `${dir}/seed-${seed}` : dir;
    await Deno.mkdir(d, { recursive: true });
    const cfg = {
      ...(options.config ?? {
        numEnvs: 8,
        totalSteps: 800,
        env: "Foraging-8x8-2p-2f-coop",
        algo: { name: options.algo },
        log: { interval: 100, checkpointEvery: 0 },
      }),
      seed,
      name: dir.split("/").at(-1),
    };
    await Deno.writeTextFile(`${d}/config.yaml`, configToYaml(cfg));
    if (options.metadata) {
      await Deno.writeTextFile(`${d}/metadata.json`, JSON.stringify(options.metadata));
    }
    const rows: MetricsRow[] = Array.from({ length: options.rows ?? 8 }, (_, i) => {
      const y = options.curve((i + 1) * 100, seed);
      return {
        envSteps: (i + 1) * 100,
        wallSeconds: i,
        stepsPerSecond: 1000 + 10 * i + seed,
        episodes: y === null ? 0 : 4,
        meanReturn: y ?? NaN,
        meanLength: y === null ? NaN : 50,
        returnPerAgent: [y ?? NaN, y === null ? NaN : 2 * y],
        scalars: options.scalars?.((i + 1) * 100) ?? {},
      };
    });
    if (options.evaluated) {
      let best = -Infinity, at = 0;
      rows.forEach((r, i) => {
        if (i % 2 === 0 && rows.length > 1) return;
        const value = (options.curve(r.envSteps, seed) ?? 0) + 1;
        if (value > best) [best, at] = [value, r.envSteps];
        r.eval = {
          protocol: "evaluation return (4 stochastic episodes)",
          value,
          episodes: 4,
          policy: "stochastic",
          returns: "team",
          returnPerAgent: [value / 2, value / 2],
          meanLength: 50,
          best: {
            protocol: "final evaluation return (best model, 4 stochastic episodes)",
            value: best,
            envSteps: at,
          },
        };
      });
    }
    await Deno.writeTextFile(`${d}/metrics.jsonl`, rows.map((r) => rowToJson(r) + "\n").join(""));
  }
}

/** Titles of the panels, and the roles of each panel's series. */
function panelRoles(data: ReportData): Record<string, string[]> {
  return Object.fromEntries(data.panels.map((p) => [p.title, p.series.map((s) => s.role)]));
}

Deno.test("meanStdBand() gives the mean and sample std across seeds at each step", () => {
  const band = meanStdBand([
    [[100, 1], [200, 2], [300, null]],
    [[100, 3], [200, 2], [300, 5]],
    [[100, 5], [200, 8]],
  ]);
  assertEquals(band.map((b) => b[0]), [100, 200, 300]);
  assertAllClose(band.flatMap((b) => b.slice(1)), [3, 2, 4, Math.sqrt(12), 5, 0], { atol: 1e-12 });
});

Deno.test("writeReport() inlines chart.js, the drawing code and the data (offline page)", async () => {
  const root = await Deno.makeTempDir();
  try {
    await fakeRun(`${root}/a`, { algo: "random", seeds: [1, 2, 3], curve: (s, k) => s / 100 + k });
    await fakeRun(`${root}/b`, { algo: "random", seeds: [1], curve: (s) => (s < 300 ? null : s) });
    const data = await writeReport(`${root}/r.html`, [`${root}/a`, `${root}/b`]);
    assertEquals(data.groups.map((g) => [g.label, g.seeds.length]), [["random · a", 3], [
      "random · b",
      1,
    ]]);
    assertEquals(data.groups[0].band[0].slice(0, 2), [100, 3], "mean of seeds 1, 2, 3 at step 100");
    assertEquals(data.groups[1].seeds[0].returns[0], [100, null]);
    const html = await Deno.readTextFile(`${root}/r.html`);
    assert(html.includes("Chart.js v4"), "chart.js UMD bundle inlined");
    assert(!/<script[^>]+src=|<link[^>]+href=/i.test(html), "no external scripts or styles");
    match(html, /<script type="application\/json" id="report-data">\{"title":/);
    const g = await loadRunGroup(`${root}/a`);
    assertEquals(g.seeds.map((s) => s.seed), [1, 2, 3]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Loads `file` in headless Chromium (offline flags); returns the DOM and the console lines. */
async function chromiumDom(
  file: string,
  profile: string,
): Promise<{ dom: string; console: string[] }> {
  const out = await new Deno.Command(CHROMIUM!, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      "--enable-logging=stderr",
      "--v=0",
      "--virtual-time-budget=5000",
      "--dump-dom",
      `file://${file}`,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const log = new TextDecoder().decode(out.stderr);
  assert(out.success, `chromium exited with ${out.code}: ${log.slice(-2000)}`);
  return {
    dom: new TextDecoder().decode(out.stdout),
    console: log.split("\n").filter((l) => l.includes(":CONSOLE")),
  };
}

Deno.test("loadRunGroup() reads the evaluations and the reported number over seeds", async () => {
  const root = await Deno.makeTempDir();
  try {
    // Seed k: evaluations at steps 200, 400, …, 800 of value 1 + sin(step / 100 + k).
    const curve = (s: number, k: number) => Math.sin(s / 100 + k);
    await fakeRun(`${root}/a`, { algo: "seac", seeds: [1, 2], curve, evaluated: true });
    const g = await loadRunGroup(`${root}/a`);
    assertEquals(g.seeds[0].evals.map((p) => p[0]), [200, 400, 600, 800]);
    const finals = [1, 2].map((k) => Math.max(...[2, 4, 6, 8].map((x) => 1 + curve(100 * x, k))));
    assertEquals(g.seeds.map((s) => s.evalFinal), finals, "the best model's value");
    const mean = (finals[0] + finals[1]) / 2;
    assertAllClose([g.eval!.mean, g.eval!.std], [
      mean,
      Math.abs(finals[0] - finals[1]) / Math.SQRT2,
    ], {
      atol: 1e-12,
    });
    assertEquals(
      [g.eval!.name, g.eval!.reported, g.eval!.seeds],
      [
        "evaluation return (4 stochastic episodes)",
        "final evaluation return (best model, 4 stochastic episodes)",
        2,
      ],
    );
    await fakeRun(`${root}/b`, { algo: "random", seeds: [1], curve });
    assertEquals((await loadRunGroup(`${root}/b`)).eval, null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "the eval replay page shows its frames in headless Chromium with no console messages",
  ignore: CHROMIUM === null,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const frames = [
        { step: 0, text: "..A\n.1.\nB..", reward: [0, 0] },
        { step: 1, text: ".A.\n.1.\n.B.", reward: [0.5, 0.25] },
      ];
      const html = replayHtml({
        task: "Foraging-8x8-2p-2f-coop",
        algo: "random",
        protocol: "return per agent (3 stochastic episodes)",
        value: 0.1,
        policy: "stochastic",
        returns: "agent",
        savedEval: null,
        episodes: 3,
        meanReturn: 0.1,
        returnPerAgent: [0.1, 0.1],
        meanLength: 50,
        frames,
        html: null,
        loaded: [],
        skipped: [],
      });
      await Deno.writeTextFile(`${root}/replay.html`, html);
      const { dom, console } = await chromiumDom(`${root}/replay.html`, `${root}/profile`);
      assertEquals(console, [], "console messages");
      match(dom, /<pre id="frame">\.\.A\n\.1\.\nB\.\.<\/pre>/);
      match(dom, /step 0 \/ 1 · reward 0\.000, 0\.000/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "report.html renders its charts in headless Chromium with no console messages",
  ignore: CHROMIUM === null,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      await fakeRun(`${root}/a`, {
        algo: "random",
        seeds: [1, 2],
        curve: (s, k) => Math.sin(s + k),
      });
      await fakeRun(`${root}/b`, {
        algo: "random",
        seeds: [4],
        curve: (s) => (s < 300 ? null : 1),
      });
      await writeReport(`${root}/r.html`, [`${root}/a`, `${root}/b`]);
      const { dom, console } = await chromiumDom(`${root}/r.html`, `${root}/profile`);
      assertEquals(console, [], "console messages");
      const body = /<body([^>]*)>/.exec(dom)?.[1] ?? "";
      assert(!body.includes("data-error"), `drawing failed: ${body}`);
      // Return, episode length, return per agent, throughput.
      match(body, /data-charts="4"/);
      match(body, /data-rendered="4"/);
      assertEquals(dom.match(/<canvas/g)?.length, 4);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "report.html draws the evaluations and the reported number under the protocol's names",
  ignore: CHROMIUM === null,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const curve = (s: number, k: number) => Math.sin(s / 100 + k);
      await fakeRun(`${root}/a`, { algo: "seac", seeds: [1, 2], curve, evaluated: true });
      await fakeRun(`${root}/b`, { algo: "iac", seeds: [3], curve, evaluated: true });
      await writeReport(`${root}/r.html`, [`${root}/a`, `${root}/b`]);
      const { dom, console } = await chromiumDom(`${root}/r.html`, `${root}/profile`);
      assertEquals(console, [], "console messages");
      const body = /<body([^>]*)>/.exec(dom)?.[1] ?? "";
      assert(!body.includes("data-error"), `drawing failed: ${body}`);
      // Return, evaluation, episode length, return per agent, throughput.
      match(body, /data-charts="5"/);
      match(body, /data-rendered="5"/);
      match(dom, /<h2>Evaluation · evaluation return \(4 stochastic episodes\) · Foraging/);
      match(dom, /<h2>Final performance<\/h2>/);
      match(
        dom,
        /<td>seac · a<\/td><td>Foraging-8x8-2p-2f-coop<\/td><td>2\/2<\/td><td>final evaluation return \(best model, 4 stochastic episodes\)<\/td><td>[\d.]+ ± [\d.]+<\/td><td>[\d.]+ \[[\d.]+, [\d.]+\]<\/td>/,
      );
      match(dom, /<td>P\(seac &gt; iac\)<\/td>/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("a one-seed run is drawn as its main line, with a panel for every metric group", async () => {
  const root = await Deno.makeTempDir();
  try {
    await fakeRun(`${root}/a`, {
      algo: "seac",
      seeds: [7],
      curve: (s) => s / 1000,
      evaluated: true,
      scalars: (s) => ({
        policyLoss: 1 / s,
        valueLoss: 2 / s,
        entropy: 1.6,
        gradNorm: 0.4,
        updates: 5,
      }),
    });
    const data = await buildReport([`${root}/a`]);
    const task = " · Foraging-8x8-2p-2f-coop";
    assertEquals(panelRoles(data), {
      [`Mean episode return${task}`]: ["main"],
      [`Evaluation · evaluation return (4 stochastic episodes)${task}`]: ["main"],
      [`Episode length${task}`]: ["main"],
      [`Return per agent${task}`]: ["main", "main"],
      [`Losses${task}`]: ["main", "main"],
      [`Entropy${task}`]: ["main"],
      [`Gradient norm${task}`]: ["main"],
      [`Other metrics${task}`]: ["main"],
      Throughput: ["main"],
    });
    const ret = data.panels[0].series[0];
    assertEquals([ret.label, ret.points.length, ret.points[1]], ["seac · a (seed 7)", 8, [
      200,
      0.2,
    ]]);
    assertEquals(data.panels[4].series.map((s) => s.label), ["policyLoss", "valueLoss"]);
    assert(!/band|thin/.test(data.subtitle), `subtitle names nothing drawn: ${data.subtitle}`);
    match(data.subtitle, /bold line: each run \(one seed\)/);
    const runs = data.tables.find((t) => t.title === "Runs")!;
    assertEquals(runs.rows[0], ["device", "not recorded in the run folder"]);
    assert(runs.rows.some((r) => r[0] === "algo.name" && r[1] === "seac"), "config in the table");
    assertEquals(data.tables.map((t) => t.title), ["Runs", "Final performance"]);
    // The device, when the run folder records it.
    await fakeRun(`${root}/b`, {
      algo: "random",
      seeds: [1],
      curve: () => 1,
      metadata: { adapter: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" } },
    });
    const withDevice = await buildReport([`${root}/b`]);
    assertEquals(withDevice.tables[0].rows[0], ["device", "llvmpipe (LLVM 15.0.6, 256 bits)"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("several seeds give seed lines, the mean and a bootstrap band, the same for a seed", async () => {
  const root = await Deno.makeTempDir();
  try {
    const curve = (s: number, k: number) => s / 100 + k;
    await fakeRun(`${root}/a`, { algo: "seac", seeds: [1, 2, 3, 4, 5], curve });
    await fakeRun(`${root}/b`, {
      algo: "iac",
      seeds: [1, 2, 3, 4, 5],
      curve: (s, k) => curve(s, k) - 3,
    });
    const data = await buildReport([`${root}/a`, `${root}/b`], { bootstrapSeed: 3, reps: 500 });
    const roles = panelRoles(data)["Mean episode return · Foraging-8x8-2p-2f-coop"];
    assertEquals(roles, [
      "band",
      "seed",
      "seed",
      "seed",
      "seed",
      "seed",
      "mean",
      "band",
      "seed",
      "seed",
      "seed",
      "seed",
      "seed",
      "mean",
    ]);
    const band = data.panels[0].series[0];
    const mean = data.panels[0].series[6];
    assertEquals(mean.points[0], [100, 4], "mean of 2, 3, 4, 5, 6");
    assert(band.points.every(([x, lo], i) => lo! <= mean.points[i][1]! && band.upper![i][0] === x));
    assert(band.upper!.every(([, hi], i) => hi! >= mean.points[i][1]!));
    match(data.subtitle, /band: 95% stratified bootstrap interval of the mean/);
    // Deterministic given the bootstrap seed; another seed resamples differently.
    const again = await buildReport([`${root}/a`, `${root}/b`], { bootstrapSeed: 3, reps: 500 });
    assertEquals(again.panels, data.panels);
    assertEquals(again.tables, data.tables);
    const other = await buildReport([`${root}/a`, `${root}/b`], { bootstrapSeed: 4, reps: 500 });
    assert(JSON.stringify(other.groups[0].band) !== JSON.stringify(data.groups[0].band));
    // Final performance: the mean of the last 10% of rows (the last row here) of each seed.
    const final = data.tables.find((t) => t.title === "Final performance")!;
    assertEquals(final.rows[0].slice(0, 5), [
      "seac · a",
      "Foraging-8x8-2p-2f-coop",
      "5/5",
      "final return (mean of the last 10% of rows)",
      "11 ± 1.581",
    ]);
    match(final.rows[0][5], /^11 \[\d+(\.\d+)?, \d+(\.\d+)?\]$/, "IQM of 9..13 with its interval");
    // seac beats iac on every pair of seeds but ties: P = (25 − 2·… ) computed by stats.ts.
    const poi = data.tables.find((t) => t.title === "Probability of improvement")!;
    assertEquals(poi.rows[0].slice(0, 3), ["P(seac > iac)", "Foraging-8x8-2p-2f-coop", "5 vs 5"]);
    match(poi.rows[0][3], /^0\.9\d\d \[/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("parseExpected() reads a number only where the preset states one unambiguously", () => {
  assertEquals(
    parseExpected(
      "45.11 ± 2.90 (paper Table 1: best model, 100 stochastic episodes, mean ± std over 5 seeds)",
    ),
    { value: 45.11, std: 2.9, on: "evaluation" },
  );
  assertEquals(
    parseExpected("mean GS episodic return per agent ≈208 after 4M steps (paper Fig. 3)"),
    { value: 208, std: null, on: "evaluation" },
  );
  assertEquals(
    parseExpected("mean episodic return per agent ≈9.5 after 4M steps (paper Fig. 3)"),
    { value: 9.5, std: null, on: "evaluation" },
  );
  for (
    const text of [
      "mean return per agent rises from about 0.15 (chance) to about 0.48",
      "no Table 1 value (training curves only in the paper, Fig. 3/4)",
      "not tabulated in our sources (paper appendix figure); the main run reaches ≈214",
      "",
    ]
  ) assertEquals(parseExpected(text), null, text);
});

Deno.test("a run of a preset's settings gets the paper's number as a reference line", async () => {
  const root = await Deno.makeTempDir();
  try {
    const preset = await findPreset("seac_rware_tiny_4ag");
    // A short run of the preset: overrides of numEnvs, totalSteps and logging keep the match.
    const config = await parseConfig(preset.text, {
      overrides: [["totalSteps", "800"], ["numEnvs", "2"], ["log.interval", "100"]],
      warn: () => {},
    });
    const plain = JSON.parse(JSON.stringify(config));
    const expected = await expectedFor(plain);
    assertEquals([expected?.preset, expected?.value, expected?.std], [
      "seac_rware_tiny_4ag",
      45.11,
      2.9,
    ]);
    await fakeRun(`${root}/tiny`, {
      algo: "seac",
      seeds: [1],
      curve: (s) => s / 100,
      evaluated: true,
      config: plain,
    });
    const data = await buildReport([`${root}/tiny`]);
    const evalPanel = data.panels.find((p) => p.title.startsWith("Evaluation"))!;
    assertEquals(evalPanel.references, [{
      value: 45.11,
      std: 2.9,
      label: "paper: 45.11 ± 2.9 (seac_rware_tiny_4ag)",
      color: 0,
    }]);
    assertEquals(data.tables[1].rows[0][6], "45.11 ± 2.9");
    // The same settings under IAC match IAC's preset; other settings or another task match none.
    const iac = await expectedFor({ ...plain, algo: { ...plain.algo, name: "iac" } });
    assertEquals([iac?.preset, iac?.value], ["iac_rware_tiny_4ag", 40.1]);
    assertEquals(await expectedFor({ ...plain, algo: { ...plain.algo, hidden: 128 } }), null);
    assertEquals(await expectedFor({ ...plain, env: "Foraging-5x5-2p-1f" }), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a run with one metrics row is drawn as points", async () => {
  const root = await Deno.makeTempDir();
  try {
    await fakeRun(`${root}/one`, { algo: "random", seeds: [1], rows: 1, curve: () => 0.5 });
    const data = await buildReport([`${root}/one`]);
    const ret = data.panels[0].series[0];
    assertEquals([ret.role, ret.points], ["main", [[100, 0.5]]]);
    assertEquals(data.tables[1].rows[0][4], "0.5");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("deno task report writes several runs under runs/, and reads a folder of runs", async () => {
  const root = await Deno.makeTempDir();
  try {
    const now = new Date("2025-01-02T03:04:05Z");
    assertEquals(defaultReportPath(["x/a"], ["x/a"], { now }), "x/a/report.html");
    assertEquals(
      defaultReportPath(["x/a", "x/b"], ["x/a", "x/b"], { now }),
      "runs/report-20250102-030405.html",
    );
    assertEquals(
      defaultReportPath(["sweep"], ["sweep/a", "sweep/b"], { now }),
      "runs/report-20250102-030405.html",
    );
    await fakeRun(`${root}/sweep/a`, { algo: "seac", seeds: [1, 2], curve: (s) => s });
    await fakeRun(`${root}/sweep/b`, { algo: "iac", seeds: [1], curve: (s) => s });
    assertEquals(await findRunDirs([`${root}/sweep`]), [`${root}/sweep/a`, `${root}/sweep/b`]);
    assertEquals(await findRunDirs([`${root}/sweep/a`]), [`${root}/sweep/a`]);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        `${REPO}deno.json`,
        `${REPO}app/report.ts`,
        "sweep/a",
        "sweep/b",
      ],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, text);
    match(text, /^report: runs\/report-\d{8}-\d{6}\.html \(2 runs, 3 seeds\)\n$/);
    const made = [...Deno.readDirSync(`${root}/runs`)].map((e) => e.name);
    assertEquals(made.length, 1);
    assert(![...Deno.readDirSync(root)].some((e) => e.name === "report.html"), "not ./report.html");
    const folder = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        `${REPO}deno.json`,
        `${REPO}app/report.ts`,
        "sweep",
        "--out",
        "s.html",
      ],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(folder.code, 0, new TextDecoder().decode(folder.stderr));
    match(new TextDecoder().decode(folder.stdout), /^report: s\.html \(2 runs, 3 seeds\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "report.html draws a one-row run and the paper's reference line in headless Chromium",
  ignore: CHROMIUM === null,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      const preset = await findPreset("seac_rware_tiny_4ag");
      const config = await parseConfig(preset.text, {
        overrides: [["totalSteps", "800"]],
        warn: () => {},
      });
      await fakeRun(`${root}/one`, {
        algo: "seac",
        seeds: [1],
        rows: 1,
        curve: () => 0.5,
        evaluated: true,
        config: JSON.parse(JSON.stringify(config)),
      });
      await writeReport(`${root}/r.html`, [`${root}/one`]);
      const { dom, console } = await chromiumDom(`${root}/r.html`, `${root}/profile`);
      assertEquals(console, [], "console messages");
      const body = /<body([^>]*)>/.exec(dom)?.[1] ?? "";
      assert(!body.includes("data-error"), `drawing failed: ${body}`);
      match(body, /data-charts="5"/);
      match(body, /data-rendered="5"/);
      match(dom, /<td>expected \(paper\)<\/td><td>45\.11 ± 2\.90/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
