import { deepStrictEqual as assertEquals, match } from "node:assert/strict";
import { SKIP_GPU } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".json": "application/json",
};

/** Serves the repository read-only on 127.0.0.1 (random port); counts requests per path. */
function serveRepo(): { server: Deno.HttpServer<Deno.NetAddr>; requested: Set<string> } {
  const requested = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (req.method !== "GET" || path.includes("..")) return new Response("no", { status: 403 });
    requested.add(path);
    try {
      const body = await Deno.readFile(REPO + path);
      const ext = /\.[a-z]+$/.exec(path)?.[0] ?? "";
      return new Response(body, { headers: { "content-type": TYPES[ext] ?? "text/plain" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { server, requested };
}

const SCRIPT = `
const [base, root] = Deno.args;
const mod = await import(base + "/mod.ts");
const { randomPolicyAct } = await import(base + "/algorithms/random_policy.ts");
const engine = await mod.createEngine();
const kernel = await mod.compileKernel(engine, randomPolicyAct);
console.log("compiled " + kernel.def.name);
const result = await mod.train(
  {
    env: "Foraging-8x8-2p-2f-coop",
    numEnvs: 8,
    totalSteps: 800,
    algo: { name: "random" },
    log: { interval: 400, checkpointEvery: 0 },
  },
  { root, engine, progress: "off", report: false },
);
console.log("rows " + result.seeds[0].rows.length);
engine.destroy();
`;

Deno.test({
  name: "mod.ts imported by URL builds an engine, compiles a kernel and trains",
  ignore: SKIP_GPU,
  async fn() {
    const { server, requested } = serveRepo();
    const dir = await Deno.makeTempDir();
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      await Deno.writeTextFile(`${dir}/main.ts`, SCRIPT);
      await Deno.mkdir(`${dir}/runs`);
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--allow-net=127.0.0.1:${server.addr.port}`,
          `--allow-import=127.0.0.1:${server.addr.port}`,
          `--allow-read=${dir}`,
          `--allow-write=${dir}`,
          "main.ts",
          base,
          `${dir}/runs`,
        ],
        cwd: dir, // no deno.json here: nothing but the URL resolves the imports
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, stderr);
      match(stdout, /^compiled random\.policy\.act\nrows 2\n$/);
      for (
        const p of [
          "/mod.ts",
          "/shaders/algorithms/random_policy.wgsl",
          "/shaders/envs/lbf/env.wgsl",
        ]
      ) {
        assertEquals(requested.has(p), true, `${p} fetched over http`);
      }
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
