import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { configToYaml } from "../../app/config.ts";
import { replayHtml } from "../../app/eval.ts";
import { loadRunGroup, meanStdBand, writeReport } from "../../app/report.ts";
import { type MetricsRow, rowToJson } from "../../app/train.ts";
import { CHROMIUM } from "../_chromium.ts";
import { assertAllClose } from "../_testing.ts";

/** Writes a run folder by hand (config + metrics), as train() would. */
async function fakeRun(
  dir: string,
  options: {
    algo: string;
    seeds: number[];
    curve: (step: number, seed: number) => number | null;
    /** Evaluations at every other row (value = curve + 1) with best-model tracking. */
    evaluated?: boolean;
  },
): Promise<void> {
  for (const [k, seed] of options.seeds.entries()) {
    const d = options.seeds.length > 1 ? `${dir}/seed-${k}` : dir;
    await Deno.mkdir(d, { recursive: true });
    const cfg = {
      seed,
      numEnvs: 8,
      totalSteps: 800,
      env: "Foraging-8x8-2p-2f-coop",
      name: dir.split("/").at(-1),
      algo: { name: options.algo },
      log: { interval: 100, checkpointEvery: 0 },
    };
    await Deno.writeTextFile(`${d}/config.yaml`, configToYaml(cfg));
    const rows: MetricsRow[] = Array.from({ length: 8 }, (_, i) => {
      const y = options.curve((i + 1) * 100, seed);
      return {
        envSteps: (i + 1) * 100,
        wallSeconds: i,
        stepsPerSecond: 1000 + 10 * i + seed,
        episodes: y === null ? 0 : 4,
        meanReturn: y ?? NaN,
        meanLength: y === null ? NaN : 50,
        returnPerAgent: [y ?? NaN, y ?? NaN],
        scalars: {},
      };
    });
    if (options.evaluated) {
      let best = -Infinity, at = 0;
      rows.forEach((r, i) => {
        if (i % 2 === 0) return;
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
    assertEquals(data.groups[0].band[0], [100, 3, 1]);
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
      match(body, /data-charts="2"/);
      match(body, /data-rendered="2"/);
      assertEquals(dom.match(/<canvas/g)?.length, 2);
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
      match(body, /data-charts="3"/);
      match(body, /data-rendered="3"/);
      match(dom, /<h2>Evaluation · evaluation return \(4 stochastic episodes\) · Foraging/);
      match(dom, /<th>final evaluation return \(best model, 4 stochastic episodes\)<\/th>/);
      match(dom, /<td>seac · a<\/td><td>\d\.\d{3} ± \d\.\d{3}<\/td><td>2<\/td>/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
