// Layering guards: no upward import between layers (engine ← envs ← algorithms ← app ← mod.ts /
// web.ts), no import cycle between files or between algorithm families, and the report command
// loads no algorithm or environment.
import { deepStrictEqual as assertEquals } from "node:assert";
import { findCycle, importGraph, importsOf, layerOf, LAYERS } from "./_source_graph.ts";

Deno.test("findCycle() finds a cycle and accepts a DAG", () => {
  const dag = new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]);
  assertEquals(findCycle(dag), null);
  const cyclic = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]);
  assertEquals(findCycle(cyclic), ["a", "b", "c", "a"]);
});

Deno.test("importsOf() reads imports, re-exports, type imports and import(), not comments", () => {
  const text = [
    `import { a } from "./a.ts";`,
    `import type { B } from "../envs/b.ts";`,
    `export { c } from "./c.ts";`,
    `export * from "./d.ts";`,
    `const e = await import("./e.ts");`,
    `/** import { x } from "./not_this.ts"; */`,
    `import { parse } from "yaml";`,
  ].join("\n");
  assertEquals(importsOf("algorithms/x.ts", text), [
    "algorithms/a.ts",
    "algorithms/c.ts",
    "algorithms/d.ts",
    "algorithms/e.ts",
    "envs/b.ts",
  ]);
});

Deno.test("no product file imports from a layer above its own", async () => {
  const bad: string[] = [];
  for (const [file, deps] of await importGraph()) {
    for (const d of deps) {
      if (layerOf(d) > layerOf(file)) bad.push(`${file} imports ${d}`);
    }
  }
  assertEquals(bad, [], `layers, bottom up: ${LAYERS.join(" ← ")} ← mod.ts/web.ts`);
});

Deno.test("every relative import names a file that exists", async () => {
  const missing: string[] = [];
  for (const [file, deps] of await importGraph()) {
    for (const d of deps) {
      try {
        await Deno.stat(new URL(`../../${d}`, import.meta.url));
      } catch {
        missing.push(`${file} imports ${d}`);
      }
    }
  }
  assertEquals(missing, []);
});

Deno.test("the product sources have no import cycle", async () => {
  assertEquals(findCycle(await importGraph()), null);
});

Deno.test("algorithm families do not import each other in a cycle", async () => {
  const family = (p: string) => {
    const parts = p.split("/");
    return parts[0] === "algorithms" && parts.length > 2 ? parts[1] : null;
  };
  const folders = new Map<string, Set<string>>();
  for (const [file, deps] of await importGraph()) {
    const f = family(file);
    if (!f) continue;
    const set = folders.get(f) ?? new Set<string>();
    for (const d of deps) {
      const g = family(d);
      if (g && g !== f) set.add(g);
    }
    folders.set(f, set);
  }
  const graph = new Map([...folders].map(([k, v]) => [k, [...v].sort()]));
  assertEquals(findCycle(graph), null);
});

Deno.test("the report command loads no algorithm and no environment", async () => {
  const graph = await importGraph();
  const seen = new Set<string>();
  const todo = ["app/report.ts"];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(graph.get(f) ?? []));
  }
  const heavy = [...seen].filter((f) =>
    f.startsWith("envs/") || f.startsWith("engine/") ||
    (f.startsWith("algorithms/") && f.split("/").length > 2) || f === "algorithms/mod.ts"
  );
  assertEquals(heavy, []);
});
