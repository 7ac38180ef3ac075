/**
 * The repository's product sources as a graph, for the guard tests: every `.ts` file of the
 * layers (`mod.ts`, `web.ts`, `app/`, `algorithms/`, `envs/`, `engine/`) with the relative
 * modules it imports (static imports and re-exports, type-only ones included, and dynamic
 * `import()` of a string literal), and every `.wgsl` file under `shaders/`.
 *
 * @module
 */

/** Repository root (this file is `tests/guards/_source_graph.ts`). */
export const ROOT: URL = new URL("../../", import.meta.url);

/** Layer folders from the bottom up; a file may import its own layer and the ones below. */
export const LAYERS = ["engine", "envs", "algorithms", "app"] as const;

/** Layer rank of a repository path: engine 0 … app 3, the entry points 4. */
export function layerOf(path: string): number {
  const top = path.split("/")[0];
  const i = (LAYERS as readonly string[]).indexOf(top);
  if (i >= 0) return i;
  if (path === "mod.ts" || path === "web.ts") return LAYERS.length;
  throw new RangeError(`Cannot place "${path}" in a layer: not under ${LAYERS.join(", ")}`);
}

/** Lists files under `dir` (repository-relative) whose names end with `ext`, sorted. */
export async function listFiles(dir: string, ext: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for await (const e of Deno.readDir(new URL(rel, ROOT))) {
      const p = `${rel}${e.name}`;
      if (e.isDirectory) await walk(`${p}/`);
      else if (e.isFile && e.name.endsWith(ext)) out.push(p);
    }
  }
  await walk(dir.endsWith("/") ? dir : `${dir}/`);
  return out.sort();
}

/** Every product `.ts` file, repository-relative. */
export async function productSources(): Promise<string[]> {
  const files = ["mod.ts", "web.ts"];
  for (const l of LAYERS) files.push(...await listFiles(l, ".ts"));
  return files;
}

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Strips comments so that examples in JSDoc are not read as imports. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/[^\n]*/g, "$1");
}

/** Relative module specifiers a source imports, resolved to repository paths. */
export function importsOf(path: string, text: string): string[] {
  const out = new Set<string>();
  for (const m of stripComments(text).matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue;
    const url = new URL(spec, new URL(path, ROOT));
    out.add(url.href.slice(ROOT.href.length));
  }
  return [...out].sort();
}

/** The import graph of the product sources. */
export async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const f of await productSources()) {
    graph.set(f, importsOf(f, await Deno.readTextFile(new URL(f, ROOT))));
  }
  return graph;
}

/** One cycle of `graph` (as a path that returns to its start), or null when it has none. */
export function findCycle(graph: Map<string, readonly string[]>): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  function visit(n: string): string[] | null {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (!graph.has(m)) continue;
      const s = state.get(m);
      if (s === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (s === undefined) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  }
  for (const n of [...graph.keys()].sort()) {
    if (state.has(n)) continue;
    const c = visit(n);
    if (c) return c;
  }
  return null;
}
