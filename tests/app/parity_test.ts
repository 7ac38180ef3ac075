// `deno task parity` as a user runs it (a subprocess): every shipped golden file passes on the CPU
// and the GPU, a corrupted copy fails with a line naming the step and the field, a header whose
// config matches no registered task is replayed from its config, unreadable files fail with one
// line.
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { HAS_GPU } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const GOLDEN = `${REPO}tests/fixtures/golden`;

/** `deno task parity …` in the repository root (GPU replays only where WebGPU has an adapter). */
async function parity(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "parity", ...(HAS_GPU ? [] : ["--cpu-only"]), ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** The golden files of the fixture set (relative to the repository root), sorted. */
async function fixtureFiles(): Promise<string[]> {
  const out: string[] = [];
  for await (const task of Deno.readDir(GOLDEN)) {
    if (!task.isDirectory) continue;
    for await (const f of Deno.readDir(`${GOLDEN}/${task.name}`)) {
      if (f.name.endsWith(".jsonl")) out.push(`tests/fixtures/golden/${task.name}/${f.name}`);
    }
  }
  return out.sort();
}

/** Rewrites line `index` (0 = header) of a JSON Lines text with `edit`. */
function editLine(text: string, index: number, edit: (row: Record<string, unknown>) => void) {
  const lines = text.split("\n");
  const row = JSON.parse(lines[index]);
  edit(row);
  lines[index] = JSON.stringify(row);
  return lines.join("\n");
}

const GPU = HAS_GPU ? "GPU 0" : "GPU not run";

Deno.test("deno task parity replays every golden file of the fixture set without a mismatch", async () => {
  const files = await fixtureFiles();
  assert(files.length >= 18, `only ${files.length} golden files`);
  const r = await parity(files);
  assertEquals([r.code, r.stderr], [0, ""]);
  const lines = r.stdout.trimEnd().split("\n");
  assertEquals(lines.length, files.length, r.stdout);
  lines.forEach((l, i) =>
    match(l, new RegExp(`^parity: ${files[i]} \\d+ steps, 0 mismatches \\(CPU 0, ${GPU}\\)$`))
  );
  match(r.stdout, /dials-warehouse-4ag\/0\.jsonl 200 steps, 0 mismatches/);
});

Deno.test("deno task parity fails on a corrupted copy, naming the step and the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = await Deno.readTextFile(`${GOLDEN}/rware-tiny-2ag/guided-0.jsonl`);
    // Line 11 is step t 8 of episode 0: move agent 0 one cell in its state_after.
    const bad = editLine(text, 10, (row) => {
      const after = row.state_after as { agents: number[][] };
      after.agents[0][1] += 1;
    });
    await Deno.writeTextFile(`${dir}/bad.jsonl`, bad);
    const r = await parity([`${dir}/bad.jsonl`]);
    assertEquals(r.code, 1);
    const [head, ...rest] = r.stdout.trimEnd().split("\n");
    match(
      head,
      new RegExp(
        `^parity: ${dir}/bad\\.jsonl 150 steps, 1 mismatches \\(CPU 1, ${
          HAS_GPU ? "GPU 1" : "GPU not run"
        }\\)$`,
      ),
    );
    match(rest[0], /^ {2}CPU line 11 \(episode 0 t 8\) state_after: got \{.*\}, want \{.*\}$/);
    if (HAS_GPU) match(rest[1], /^ {2}GPU line 11 \(episode 0 t 8\) state_after: got /);
    const warehouse = await Deno.readTextFile(`${GOLDEN}/dials-warehouse-4ag/0.jsonl`);
    const bad2 = editLine(warehouse, 40, (row) => {
      (row.state_after as { items: number[][] }).items[0][3] += 1;
    });
    await Deno.writeTextFile(`${dir}/bad2.jsonl`, bad2);
    const r2 = await parity([`${dir}/bad2.jsonl`]);
    assertEquals(r2.code, 1);
    match(
      r2.stdout,
      /1 mismatches .*\n {2}CPU line 41 \(episode 0 t 38\) state_after\.items: got \[\[6,8,38\],/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task parity builds the env from the header config, not from a registered name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // RWARE with a step limit no registered task has: the recorded steps still match.
    const rware = await Deno.readTextFile(`${GOLDEN}/rware-tiny-2ag/0.jsonl`);
    await Deno.writeTextFile(
      `${dir}/rware-custom.jsonl`,
      editLine(rware, 0, (h) => {
        h.env = "my-own-warehouse";
        (h.config as Record<string, unknown>).max_steps = 1000;
      }),
    );
    // LBF recorded on 8 × 8, header edited to 9 × 9: replayed on 9 × 9, where the moves at the
    // old border differ, so it fails by mismatches (not because the name is unknown).
    const lbf = await Deno.readTextFile(`${GOLDEN}/Foraging-8x8-2p-2f-coop/0.jsonl`);
    await Deno.writeTextFile(
      `${dir}/lbf-9x9.jsonl`,
      editLine(lbf, 0, (h) => {
        h.env = "Foraging-9x9-2p-2f-coop";
        (h.config as Record<string, unknown>).field_size = [9, 9];
      }),
    );
    // The same file with its map given as the reference's layout string (shelf sizes ignored).
    const small = await Deno.readTextFile(`${GOLDEN}/rware-small-4ag/guided-0.jsonl`);
    await Deno.writeTextFile(
      `${dir}/rware-map.jsonl`,
      editLine(small, 0, (h) => {
        const map = (h.static as { layout_rows: string[] }).layout_rows.join("\n");
        h.env = "my-map";
        Object.assign(h.config as object, { layout: map, shelf_rows: 7, column_height: 3 });
      }),
    );
    const ok = await parity([`${dir}/rware-custom.jsonl`, `${dir}/rware-map.jsonl`]);
    assertEquals([ok.code, ok.stderr], [0, ""]);
    match(ok.stdout, /rware-custom\.jsonl 150 steps, 0 mismatches/);
    match(ok.stdout, /rware-map\.jsonl 150 steps, 0 mismatches/);
    const r = await parity([`${dir}/lbf-9x9.jsonl`]);
    assertEquals([r.code, r.stderr], [1, ""]);
    match(r.stdout, /^parity: .*lbf-9x9\.jsonl 100 steps, \d+ mismatches/);
    match(r.stdout, /\n {2}CPU line \d+ \(episode 0 t \d+\) (state_after|obs)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task parity fails with one line on unreadable files and bad usage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/not_json.jsonl`, '{"kind": "header"\n');
    const rware = await Deno.readTextFile(`${GOLDEN}/rware-tiny-2ag/0.jsonl`);
    await Deno.writeTextFile(
      `${dir}/family.jsonl`,
      editLine(rware, 0, (h) => (h.family = "smac")),
    );
    await Deno.writeTextFile(
      `${dir}/draws.jsonl`,
      editLine(rware, 5, (row) => delete row.request_replacements),
    );
    const cases: [string, RegExp][] = [
      [
        `${dir}/missing.jsonl`,
        /^parity: .*missing\.jsonl: Cannot read golden file: file not found$/,
      ],
      [
        `${dir}/not_json.jsonl`,
        /^parity: .*not_json\.jsonl: Cannot parse golden file ".*": line 1 is not JSON/,
      ],
      [
        `${dir}/family.jsonl`,
        /: family "smac" is not one of lbf, rware, pursuit, dials-warehouse$/,
      ],
      [
        `${dir}/draws.jsonl`,
        /: line 6 \(episode 0 t 3\) has no "request_replacements", the step's recorded draws$/,
      ],
    ];
    for (const [path, want] of cases) {
      const r = await parity([path]);
      assertEquals([r.code, r.stdout], [1, ""], path);
      assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      match(r.stderr.trimEnd(), want);
    }
    // Other files are still checked after a bad one.
    const mixed = await parity([`${dir}/missing.jsonl`, "tests/fixtures/golden/pursuit/0.jsonl"]);
    assertEquals(mixed.code, 1);
    match(
      mixed.stdout,
      /^parity: tests\/fixtures\/golden\/pursuit\/0\.jsonl 100 steps, 0 mismatches/,
    );
    const none = await parity([]);
    assertEquals(none.code, 1);
    match(none.stderr, /^parity: no golden file given \(see --help\)\n$/);
    const help = await parity(["--help"]);
    assertEquals(help.code, 0);
    match(help.stdout, /^Usage: deno task parity \[--cpu-only\]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
