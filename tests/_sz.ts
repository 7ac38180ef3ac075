// Line counts per folder and file type (after tinygrad's sz.py): `deno task sz`.
const ROOTS = ["engine", "shaders", "envs", "algorithms", "bench", "tests"];
const rows: [string, number, number][] = [];
async function walk(dir: string, acc: Map<string, [number, number]>): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) await walk(path, acc);
    else if (/\.(ts|wgsl)$/.test(e.name)) {
      const ext = e.name.split(".").pop()!;
      const n = (await Deno.readTextFile(path)).split("\n").length;
      const cur = acc.get(ext) ?? [0, 0];
      acc.set(ext, [cur[0] + 1, cur[1] + n]);
    }
  }
}
for (const root of ROOTS) {
  const acc = new Map<string, [number, number]>();
  try {
    await walk(root, acc);
  } catch {
    continue;
  }
  for (const [ext, [files, lines]] of acc) rows.push([`${root}/*.${ext}`, files, lines]);
}
rows.sort((a, b) => b[2] - a[2]);
for (const [name, files, lines] of rows) {
  console.log(
    `${name.padEnd(24)} ${String(files).padStart(4)} files ${String(lines).padStart(7)} lines`,
  );
}
console.log(
  `${"total".padEnd(24)} ${String(rows.reduce((s, r) => s + r[1], 0)).padStart(4)} files ${
    String(rows.reduce((s, r) => s + r[2], 0)).padStart(7)
  } lines`,
);
