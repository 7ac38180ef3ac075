/**
 * The only place that turns `.wgsl` files into text. Paths are relative to `shaders/` and are
 * resolved against this module's URL (never the working directory), so the engine works from a
 * local checkout and when `mod.ts` is imported by URL.
 *
 * @module
 */

/** Where a line of the assembled source came from. */
export interface SourceLine {
  file: string;
  line: number;
}

/** A shader assembled from its includes (in order) and its main file. */
export interface ShaderSource {
  code: string;
  /** `lines[i]` maps line `i + 1` of `code` back to its file and line. */
  lines: SourceLine[];
}

const SHADER_ROOT = new URL("../shaders/", import.meta.url);
const textCache = new Map<string, Promise<string>>();

async function fetchText(path: string): Promise<string> {
  const url = new URL(path, SHADER_ROOT);
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  const res = await fetch(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`Cannot load shader "${path}": ${url.href} answered ${res.status}`);
  }
  return await res.text();
}

/** Loads one `.wgsl` file as text (cached per path). */
export function loadShaderText(path: string): Promise<string> {
  if (!path.endsWith(".wgsl")) {
    return Promise.reject(new TypeError(`Cannot load shader "${path}": not a .wgsl path`));
  }
  let p = textCache.get(path);
  if (!p) {
    p = fetchText(path);
    textCache.set(path, p);
    p.catch(() => textCache.delete(path));
  }
  return p;
}

/** Concatenates `includes` (in order) and `main`, keeping a map back to file:line. */
export async function loadShader(
  main: string,
  includes: readonly string[] = [],
): Promise<ShaderSource> {
  const files = [...includes, main];
  const texts = await Promise.all(files.map(loadShaderText));
  const parts: string[] = [];
  const lines: SourceLine[] = [];
  files.forEach((file, k) => {
    const fileLines = texts[k].split("\n");
    fileLines.forEach((_, i) => lines.push({ file, line: i + 1 }));
    parts.push(texts[k]);
  });
  return { code: parts.join("\n"), lines };
}

/** Formats an assembled line number as `file:line`. */
export function originOf(src: ShaderSource, lineNum: number): string {
  const l = src.lines[lineNum - 1];
  return l ? `shaders/${l.file}:${l.line}` : `line ${lineNum}`;
}
