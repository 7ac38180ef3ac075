// `deno task site`: the playground folder holds the page, the bundle, every shader, chart.js and
// the shipped policies, and the server serves it (no browser needed).
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { buildSite, serveSite } from "../../app/site.ts";
import { decodeCheckpoint } from "../../app/checkpoint_bytes.ts";
import { playgroundConfigFromCheckpoint } from "../../app/playground_config.ts";

const POLICIES = new URL("../../examples/playground/policies/", import.meta.url);

Deno.test("buildSite() writes the page, bundle, shaders, chart.js and policies, and serveSite() serves them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "marl-site-" });
  try {
    const site = await buildSite(`${dir}/site`);
    for (
      const f of [
        "index.html",
        "main.js",
        "style.css",
        "dist/marl-webgpu.js",
        "vendor/chart.umd.min.js",
        "policies/policies.json",
      ]
    ) {
      assert(site.files.includes(f), `${f} in ${site.files.slice(0, 8)}…`);
    }
    const wgsl = [...Deno.readDirSync(new URL("../../shaders/common/", import.meta.url))].length;
    const common = site.files.filter((f) => f.startsWith("shaders/common/")).length;
    assertEquals(common, wgsl, "shaders next to dist/");
    const server = serveSite(site.dir, 0);
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const page = await fetch(`${base}/`);
      assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
      assert((await page.text()).includes('src="./main.js"'));
      const main = await (await fetch(`${base}/main.js`)).text();
      assert(main.includes('from "./dist/marl-webgpu.js"'));
      const missing = await fetch(`${base}/nope.js`);
      await missing.body?.cancel();
      assertEquals(missing.status, 404);
      const up = await fetch(`${base}/../deno.json`);
      await up.body?.cancel();
      assert(up.status === 403 || up.status === 404);
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every shipped policy is listed, small, and names a playground pair", async () => {
  const list = JSON.parse(await Deno.readTextFile(new URL("policies.json", POLICIES))) as {
    file: string;
    title: string;
  }[];
  assert(list.length > 0);
  for (const p of list) {
    const bytes = await Deno.readFile(new URL(p.file, POLICIES));
    assert(bytes.length < 400_000, `${p.file}: ${bytes.length} bytes`);
    const checkpoint = decodeCheckpoint(bytes, p.file);
    const config = playgroundConfigFromCheckpoint(checkpoint.config, 4);
    assert(config.algo.name.length > 0 && p.title.length > 0);
    const readme = await Deno.readTextFile(new URL("README.md", POLICIES));
    assert(readme.includes(p.file), `${p.file} has its command in policies/README.md`);
  }
});
