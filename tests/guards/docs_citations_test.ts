// Code cites the repository's own docs: every `docs/<page>.md` named in a source, shader, preset or
// bench exists, and every section it cites (`docs/algorithms/seac.md §2`, `§3.1`) is a heading of
// that page. Nothing cites the team's folders outside the repository.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { listFiles, ROOT } from "./_source_graph.ts";

const CITE_RE = /docs\/([\w/-]+\.md)(?: ?§ ?([A-Z]?\d+(?:\.\d+)*))?/g;

async function citingFiles(): Promise<string[]> {
  const files = ["mod.ts", "web.ts", "README.md"];
  for (
    const d of ["app", "algorithms", "envs", "engine", "shaders", "bench", "tests", "examples"]
  ) {
    for (const ext of [".ts", ".wgsl", ".yaml", ".js", ".html", ".sh"]) {
      files.push(...await listFiles(d, ext));
    }
  }
  return files;
}

/** The section numbers a page's headings start with ("1", "3.1", "A6", …). */
function sectionsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{2,4} ([A-Z]?\d+(?:\.\d+)*)[.\s]/gm)) out.add(m[1]);
  return out;
}

Deno.test("sectionsOf() reads numbered headings", () => {
  const page = "# T\n## 1. A\n### 3.1 B\n### A6. C\n## Sources\n";
  assertEquals([...sectionsOf(page)].sort(), ["1", "3.1", "A6"]);
});

Deno.test("every docs page and section the code cites exists", async () => {
  const pages = new Map<string, Set<string> | null>();
  const problems: string[] = [];
  for (const f of await citingFiles()) {
    if (f.startsWith("tests/fixtures/")) continue;
    const text = await Deno.readTextFile(new URL(f, ROOT));
    for (const m of text.matchAll(CITE_RE)) {
      const [, page, section] = m;
      if (!pages.has(page)) {
        try {
          pages.set(page, sectionsOf(await Deno.readTextFile(new URL(`docs/${page}`, ROOT))));
        } catch {
          pages.set(page, null);
        }
      }
      const sections = pages.get(page);
      if (sections === null) problems.push(`${f}: docs/${page} does not exist`);
      else if (section && !sections!.has(section)) {
        problems.push(`${f}: docs/${page} has no section ${section}`);
      }
    }
    if (/\.\.\/shared\/|shared\/(specs|golden|design)/.test(text)) {
      problems.push(`${f}: names a folder outside the repository`);
    }
  }
  assertEquals(problems, []);
});
