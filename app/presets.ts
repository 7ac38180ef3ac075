/**
 * Presets: YAML configs under `app/presets/`, each opening with a comment block that gives
 * a one-line description, its paper `Source:` and the `Expected:` result. `deno task run <preset>`
 * runs one by file stem; `--list` prints them all.
 *
 * @module
 */

/** Folder of the preset files. */
export const PRESET_DIR: URL = new URL("./presets/", import.meta.url);

/** A preset file and what its header says. */
export interface Preset {
  /** File stem, e.g. "random_lbf". */
  name: string;
  /** File path or URL. */
  path: string;
  /** First header line (what the preset runs). */
  description: string;
  /** Paper or source of the settings (`# Source:` line). */
  source: string;
  /** Expected result (`# Expected:` line). */
  expected: string;
  /** The whole leading comment block, `# ` removed (description, source, expected, notes). */
  comment: string;
  /** The YAML text. */
  text: string;
}

/**
 * Reads the leading `#` comment block of a preset: the first line is the description, `Source:`
 * and `Expected:` lines (continued by indented comment lines) fill those fields.
 *
 * @param text YAML text.
 * @returns Description, source and expected result ("" where absent).
 */
export function presetHeader(
  text: string,
): { description: string; source: string; expected: string } {
  const header: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    header.push(line.replace(/^#\s?/, ""));
  }
  const out = { description: "", source: "", expected: "" };
  let field: "source" | "expected" | null = null;
  for (const line of header) {
    const m = /^(Source|Expected):\s*(.*)$/.exec(line.trim());
    if (m) {
      field = m[1] === "Source" ? "source" : "expected";
      out[field] = m[2].trim();
    } else if (field && /^\s+\S/.test(line)) {
      out[field] += " " + line.trim();
    } else if (!out.description && line.trim()) {
      out.description = line.trim();
      field = null;
    } else {
      field = null;
    }
  }
  return out;
}

/**
 * The leading `#` comment block of a preset, each line without its `# `.
 *
 * @param text YAML text.
 * @returns The lines joined by newlines ("" when the file opens with no comment).
 */
export function presetComment(text: string): string {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    lines.push(line.replace(/^#\s?/, ""));
  }
  return lines.join("\n").trimEnd();
}

/** Every preset, sorted by name (reads `app/presets/*.yaml`). */
export async function listPresets(): Promise<Preset[]> {
  if (PRESET_DIR.protocol !== "file:") {
    throw new TypeError(`Cannot list presets: ${PRESET_DIR.href} is not a local folder`);
  }
  const out: Preset[] = [];
  for await (const entry of Deno.readDir(PRESET_DIR)) {
    if (!entry.isFile || !/\.ya?ml$/.test(entry.name)) continue;
    const url = new URL(entry.name, PRESET_DIR);
    const text = await Deno.readTextFile(url);
    out.push({
      name: entry.name.replace(/\.ya?ml$/, ""),
      path: url.pathname,
      ...presetHeader(text),
      comment: presetComment(text),
      text,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The preset called `name`; throws naming the known presets when there is none. */
export async function findPreset(name: string): Promise<Preset> {
  const all = await listPresets();
  const p = all.find((x) => x.name === name);
  if (!p) {
    throw new TypeError(
      `Cannot find preset "${name}": known presets are ${all.map((x) => x.name).join(", ")}`,
    );
  }
  return p;
}
