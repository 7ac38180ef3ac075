// The public API documents itself: every export of mod.ts has a JSDoc summary in `deno doc`, and
// every exported value (function, class, constant) has an `@example` (run by `deno test --doc`).
// Types are documented; their use is shown in the examples of the values that take them.
import { deepStrictEqual as assertEquals } from "node:assert/strict";

interface DocSymbol {
  name: string;
  declarations: { kind: string; jsDoc?: { doc?: string; tags?: { kind: string }[] } }[];
}

async function modSymbols(): Promise<DocSymbol[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "mod.ts"],
    cwd: new URL("../../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  const [node] = Object.values(json.nodes) as { symbols: DocSymbol[] }[];
  return node.symbols;
}

const VALUE_KINDS = new Set(["function", "class", "variable", "enum"]);

Deno.test("every export of mod.ts is documented, and every exported value has an example", async () => {
  const symbols = await modSymbols();
  if (symbols.length < 30) throw new Error(`only ${symbols.length} exports read from mod.ts`);
  const undocumented: string[] = [];
  const noExample: string[] = [];
  for (const s of symbols) {
    const docs = s.declarations.map((d) => d.jsDoc);
    if (!docs.some((j) => j?.doc?.trim())) undocumented.push(s.name);
    const isValue = s.declarations.some((d) => VALUE_KINDS.has(d.kind));
    const hasExample = docs.some((j) => j?.tags?.some((t) => t.kind === "example"));
    if (isValue && !hasExample) noExample.push(s.name);
  }
  assertEquals({ undocumented, noExample }, { undocumented: [], noExample: [] });
});
