// The browser path end to end: `deno bundle` builds web.ts, a local server serves the repository
// (shaders included) and the bundle, and headless Chromium opens examples/browser/index.html with
// WebGPU on its SwiftShader (CPU) adapter, its device capped at the WebGPU minimum of 8 storage
// buffers per shader stage (Chrome itself exposes 10). The page trains a few iterations of each
// algorithm below and POSTs its metrics rows back. Skipped without Chromium.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { CHROMIUM } from "./_chromium.ts";

const ROOT = new URL("../", import.meta.url);
const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".wgsl": "text/plain",
};

/** Bundles web.ts into `dir`/marl-webgpu.js with this Deno. */
async function bundle(dir: string): Promise<string> {
  const out = `${dir}/marl-webgpu.js`;
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "browser", "-o", out, new URL("web.ts", ROOT).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(res.success, `deno bundle failed: ${new TextDecoder().decode(res.stderr).slice(-2000)}`);
  return out;
}

/** Runs the example page in headless Chromium with `query`; resolves with what it POSTs. */
async function runPage(query: Record<string, string>, bundlePath: string, profile: string) {
  let resolve!: (v: unknown) => void;
  const posted = new Promise((r) => resolve = r);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (req.method === "POST" && path === "/result") {
      resolve(await req.json());
      return new Response("ok");
    }
    const file = path === "/dist/marl-webgpu.js" ? bundlePath : new URL(`.${path}`, ROOT).pathname;
    if (path.includes("..")) return new Response("no", { status: 403 });
    try {
      const body = await Deno.readFile(file);
      const type = TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const params = new URLSearchParams({ ...query, report: `${origin}/result` });
  const browser = new Deno.Command(CHROMIUM!, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--enable-unsafe-webgpu",
      "--use-webgpu-adapter=swiftshader",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      `${origin}/examples/browser/index.html?${params}`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("the page posted nothing within 240 s")), 240_000);
  });
  try {
    return await Promise.race([posted, timeout]);
  } finally {
    clearTimeout(timer);
    browser.kill();
    await browser.status;
    await server.shutdown();
  }
}

interface PageResult {
  adapter?: string;
  limits?: Record<string, number>;
  error?: string;
  rows?: { envSteps: number; episodes: number; meanReturn: number | null }[];
}

Deno.test({
  name: "the browser example trains SEAC and IDQN in headless Chromium from the bundled web.ts",
  ignore: CHROMIUM === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "marl-web-" });
    try {
      const bundlePath = await bundle(dir);
      const cases: Record<string, string>[] = [
        {
          algo: "seac",
          env: "Foraging-5x5-2p-1f",
          envs: "4",
          steps: "400",
          interval: "200",
          maxStorageBuffers: "8",
        },
        {
          algo: "idqn",
          env: "Foraging-5x5-2p-1f",
          envs: "4",
          steps: "400",
          interval: "200",
          "algo.bufferSize": "256",
          "algo.batchSize": "16",
          "algo.learningStarts": "64",
          "algo.conv": "[]",
          // No evaluation: IDQN's protocol (every 1/200 of the budget) would evaluate every 2 steps.
          "eval.interval": "0",
          maxStorageBuffers: "8",
        },
      ];
      for (const [k, query] of cases.entries()) {
        const result = await runPage(query, bundlePath, `${dir}/profile-${k}`) as PageResult;
        assert(!result.error, `${query.algo} failed in the page: ${result.error}`);
        assert(/swiftshader/i.test(result.adapter ?? ""), `adapter ${result.adapter}`);
        const storage = result.limits?.maxStorageBuffersPerShaderStage;
        assertEquals(storage, 8, "the page's device is capped at the WebGPU minimum");
        const rows = result.rows ?? [];
        assertEquals(rows.map((r) => r.envSteps), [200, 400], `${query.algo} log points`);
        assert(rows.every((r) => r.episodes >= 0), `${query.algo} episodes`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
