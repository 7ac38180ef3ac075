// Shader ownership: `shaders/` mirrors the TypeScript tree, so a kernel's owner and its shader
// share a path and a name. `shaders/<dir>/<name>.wgsl` is owned by `<dir>/<name>.ts`, or, for a
// second shader of the same owner, `shaders/<dir>/<owner>_<part>.wgsl` by `<dir>/<owner>.ts`; the
// owner names the shader. Include-only files start with "_" and are included from their own
// folder's sources (a `common/` folder's from its parent folder's). Every shader a source names
// exists.
import { deepStrictEqual as assertEquals } from "node:assert";
import { listFiles, ROOT } from "./_source_graph.ts";

/** The owner candidates of a shader path (relative to `shaders/`), most specific first. */
export function ownerCandidates(shader: string): string[] {
  const dir = shader.slice(0, shader.lastIndexOf("/") + 1);
  const parts = shader.slice(dir.length, -".wgsl".length).split("_");
  const out: string[] = [];
  for (let n = parts.length; n >= 1; n--) out.push(`${dir}${parts.slice(0, n).join("_")}.ts`);
  return out;
}

Deno.test("ownerCandidates() strips _part suffixes from the shader name", () => {
  assertEquals(ownerCandidates("envs/pursuit/env_observe.wgsl"), [
    "envs/pursuit/env_observe.ts",
    "envs/pursuit/env.ts",
  ]);
  assertEquals(ownerCandidates("engine/nn/linear.wgsl"), ["engine/nn/linear.ts"]);
});

const SHADER_RE = /["']([\w/]+\.wgsl)["']/g;

async function sourceTexts(): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  const files = ["mod.ts", "web.ts"];
  for (const d of ["app", "algorithms", "envs", "engine", "bench", "tests"]) {
    files.push(...await listFiles(d, ".ts"));
  }
  for (const f of files) texts.set(f, await Deno.readTextFile(new URL(f, ROOT)));
  return texts;
}

Deno.test("every shader has the owner its path names, and the owner loads it", async () => {
  const texts = await sourceTexts();
  const named = (file: string) =>
    new Set([...texts.get(file)!.matchAll(SHADER_RE)].map((m) => m[1]));
  const problems: string[] = [];
  for (const path of await listFiles("shaders", ".wgsl")) {
    const shader = path.slice("shaders/".length);
    const name = shader.slice(shader.lastIndexOf("/") + 1);
    if (name.startsWith("_")) {
      // A `common/` folder serves its parent folder (the top-level one, everything).
      const dir = shader.slice(0, shader.lastIndexOf("/") + 1).replace(/(^|\/)common\/$/, "$1");
      const users = [...texts.keys()].filter((f) =>
        (f.startsWith(dir) || f.startsWith(`tests/${dir}`)) && named(f).has(shader)
      );
      if (users.length === 0) {
        problems.push(`${path}: include-only, but nothing in ${dir} includes it`);
      }
      continue;
    }
    const owner = ownerCandidates(shader).find((c) => texts.has(c));
    if (!owner) {
      problems.push(`${path}: no owner (${ownerCandidates(shader).join(" or ")})`);
    } else if (!named(owner).has(shader)) {
      problems.push(`${path}: its owner ${owner} does not name "${shader}"`);
    }
  }
  assertEquals(problems, []);
});

Deno.test("every shader a source names exists", async () => {
  const shaders = new Set(
    (await listFiles("shaders", ".wgsl")).map((p) => p.slice("shaders/".length)),
  );
  const missing: string[] = [];
  for (const [file, text] of await sourceTexts()) {
    for (const m of text.matchAll(SHADER_RE)) {
      // A URL path ("/shaders/…", a served file) or a path relative to `shaders/`.
      const shader = m[1].replace(/^\/shaders\//, "");
      if (!shader.includes("/") || shaders.has(shader)) continue;
      missing.push(`${file} names "${m[1]}"`);
    }
  }
  assertEquals(missing, []);
});
