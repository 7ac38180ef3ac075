// The browser playground end to end: `buildSite` (app/site.ts) builds the page, the bundle, the
// shaders, chart.js and the shipped policies into a temp folder, a local server serves it, and
// headless Chromium (WebGPU on its SwiftShader adapter, driven over the DevTools protocol) trains
// SEAC on LBF and RWARE from scratch, then watches the random policy and a shipped policy. The
// test checks the page's own report (`window.playground.snapshot()`): the canvas is drawn and
// changes between frames, the charts hold points, the device is capped at 8 storage buffers, and
// the shipped policy scores above random. It prints frames/s and env steps/s and saves
// screenshots under test-artifacts/playground/. Skipped without Chromium.
import { ok as assert } from "node:assert/strict";
import { buildSite, serveSite } from "../app/site.ts";
import { CHROMIUM } from "./_chromium.ts";
import { type CdpPage, openPage, removeBrowserDir } from "./_cdp.ts";

const ARTIFACTS = new URL("../test-artifacts/playground/", import.meta.url);

interface Snapshot {
  running: boolean;
  mode: string;
  task: string | null;
  algo: string | null;
  envSteps: number;
  watchSteps: number;
  episodes: number;
  watched: { episodes: number; meanReturn: number; meanLength: number };
  frames: number;
  changedFrames: number;
  fps: number;
  stepsPerSecond: number;
  inkedPixels: number;
  canvas: { width: number; height: number };
  chartPoints: { return: number; length: number; loss: number };
  charts: boolean;
  status: string;
  error: string | null;
  limits: { maxStorageBuffersPerShaderStage: number } | null;
  adapter: string | null;
}

const snapshot = (page: CdpPage) => page.evaluate<Snapshot>("globalThis.playground.snapshot()");

async function shot(page: CdpPage, name: string): Promise<string> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const path = new URL(`${name}.png`, ARTIFACTS).pathname;
  await Deno.writeFile(path, await page.screenshot());
  return path;
}

/** Sets the menus and waits for `until` on the snapshot (checked every 200 ms). */
async function runUntil(
  page: CdpPage,
  what: string,
  until: (s: Snapshot) => boolean,
  timeoutMs: number,
): Promise<Snapshot> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await snapshot(page);
    if (s.error) throw new Error(`${what}: the page failed: ${s.error}`);
    if (until(s)) return s;
    if (Date.now() > end) {
      throw new Error(`${what}: timed out; last snapshot ${JSON.stringify(s)}; logs ${page.logs}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test({
  name: "the playground trains, draws, charts and runs a shipped policy in headless Chromium",
  ignore: CHROMIUM === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "marl-playground-" });
    const site = await buildSite(`${dir}/site`);
    const server = serveSite(site.dir, 0);
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const page = await openPage(`${origin}/?autostart=0`, { profile: `${dir}/profile` });
    const numbers: string[] = [];
    try {
      await page.waitFor("globalThis.playground?.ready?.then(() => true)", 60_000);
      assert(await page.evaluate("globalThis.playground.ready"), `page logs: ${page.logs}`);
      // 1. SEAC on LBF from scratch: a few hundred steps, drawn and charted.
      await page.evaluate(`(globalThis.playground.set({ env: "Foraging-5x5-2p-1f", algo: "seac",
        envs: 8, iters: 2, fps: 20 }), globalThis.playground.train())`);
      const lbf = await runUntil(
        page,
        "SEAC on LBF",
        (s) => s.envSteps >= 800 && s.chartPoints.return >= 2 && s.frames >= 5,
        120_000,
      );
      assert(/swiftshader/i.test(lbf.adapter ?? ""), `adapter ${lbf.adapter}`);
      assert(lbf.limits?.maxStorageBuffersPerShaderStage === 8, JSON.stringify(lbf.limits));
      assert(lbf.charts, "chart.js loaded");
      assert(lbf.inkedPixels > 2_000, `canvas drawn: ${lbf.inkedPixels} pixels`);
      assert(lbf.changedFrames >= lbf.frames - 1 && lbf.frames >= 5, "every frame differs");
      assert(lbf.chartPoints.loss > 0 && lbf.chartPoints.length > 0, "loss and length curves");
      numbers.push(
        `SEAC LBF 5x5, 8 envs, 2 iterations/frame: ${lbf.fps.toFixed(1)} frames/s, ${
          Math.round(lbf.stepsPerSecond)
        } env steps/s`,
      );
      console.log(`screenshot: ${await shot(page, "lbf_train")}`);
      // More work per frame: throughput when drawing is rarer.
      await page.evaluate(`globalThis.playground.set({ iters: 32, fps: 60 })`);
      const fast0 = await snapshot(page);
      const fast = await runUntil(page, "SEAC fast", (s) => s.frames >= fast0.frames + 8, 60_000);
      numbers.push(
        `SEAC LBF 5x5, 8 envs, 32 iterations/frame: ${fast.fps.toFixed(1)} frames/s, ${
          Math.round(fast.stepsPerSecond)
        } env steps/s`,
      );
      // 2. RWARE: another renderer on a real canvas.
      await page.evaluate(`(globalThis.playground.set({ env: "rware-tiny-2ag", algo: "seac",
        envs: 8, iters: 2, fps: 20 }), globalThis.playground.train())`);
      const rware = await runUntil(
        page,
        "SEAC on RWARE",
        (s) => s.task === "rware-tiny-2ag" && s.envSteps >= 400 && s.frames >= 5,
        120_000,
      );
      assert(rware.inkedPixels > 5_000 && rware.changedFrames >= 2, JSON.stringify(rware));
      numbers.push(
        `SEAC rware-tiny-2ag, 8 envs, 2 iterations/frame: ${rware.fps.toFixed(1)} frames/s, ${
          Math.round(rware.stepsPerSecond)
        } env steps/s`,
      );
      console.log(`screenshot: ${await shot(page, "rware_train")}`);
      // 3. The random policy on LBF, then the shipped SEAC policy: it scores above random.
      await page.evaluate(`(globalThis.playground.set({ env: "Foraging-5x5-2p-1f", algo: "random",
        envs: 16, iters: 8, fps: 20 }), globalThis.playground.reset()
        .then(() => globalThis.playground.watch()))`);
      const random = await runUntil(
        page,
        "random on LBF",
        (s) => s.algo === "random" && s.watched.episodes >= 40,
        120_000,
      );
      const policies = await page.evaluate<{ file: string }[]>("globalThis.playground.policies()");
      assert(policies.length > 0, "policies are shipped");
      await page.evaluate(`globalThis.playground.loadShipped(${JSON.stringify(policies[0].file)})
        .then(() => globalThis.playground.set({ iters: 8, fps: 20 }))`);
      const shipped = await runUntil(
        page,
        "shipped policy",
        (s) => s.mode === "watch" && s.algo === "seac" && s.watched.episodes >= 40,
        120_000,
      );
      console.log(`screenshot: ${await shot(page, "lbf_shipped_policy")}`);
      numbers.push(
        `watch LBF 5x5, 16 envs: random return ${
          random.watched.meanReturn.toFixed(3)
        } (${random.watched.episodes} episodes), shipped ${policies[0].file} ${
          shipped.watched.meanReturn.toFixed(3)
        } (${shipped.watched.episodes} episodes, mean length ${
          shipped.watched.meanLength.toFixed(1)
        } vs ${random.watched.meanLength.toFixed(1)}), ${shipped.fps.toFixed(1)} frames/s`,
      );
      assert(
        shipped.watched.meanReturn > random.watched.meanReturn + 0.1,
        `shipped ${shipped.watched.meanReturn} vs random ${random.watched.meanReturn}`,
      );
      assert(shipped.chartPoints.return >= 2, "watch curve");
      console.log(numbers.join("\n"));
    } finally {
      await page.close();
      await server.shutdown();
      await removeBrowserDir(dir);
    }
  },
});

Deno.test({
  name: "the playground says plainly when the browser has no WebGPU",
  ignore: CHROMIUM === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "marl-playground-nogpu-" });
    const site = await buildSite(`${dir}/site`);
    const server = serveSite(site.dir, 0);
    const page = await openPage("about:blank", { profile: `${dir}/profile` });
    try {
      await page.addInitScript(
        "Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });",
      );
      await page.navigate(`http://127.0.0.1:${server.addr.port}/`);
      await page.waitFor("globalThis.playground?.ready?.then(() => true)", 30_000);
      assert((await page.evaluate("globalThis.playground.ready")) === false);
      const text = await page.evaluate<string>(
        "document.getElementById('nogpu').hidden ? '' : document.getElementById('nogpu').textContent",
      );
      assert(/needs WebGPU/.test(text), text);
      assert(await page.evaluate<boolean>("document.getElementById('train').disabled"));
      console.log(`screenshot: ${await shot(page, "no_webgpu")}`);
    } finally {
      await page.close();
      await server.shutdown();
      await removeBrowserDir(dir);
    }
  },
});
