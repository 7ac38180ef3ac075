/**
 * `deno task site [folder] [--serve[=port]]`: builds the browser playground into a folder
 * (default `site/`) that any static host serves: the page (`examples/playground/`), the library
 * bundled from `web.ts` (`dist/marl-webgpu.js`, which fetches `shaders/` next to `dist/`), every
 * shader, chart.js's UMD bundle (`vendor/`) and the shipped policies (`policies/`). With `--serve`
 * it then serves the folder on localhost (default port 8000) until interrupted.
 *
 * @module
 */
import { chartJsBundle } from "./report.ts";

const ROOT = new URL("../", import.meta.url);
/** The page: every file of `examples/playground/` with one of these endings (not `policies/`). */
const PAGE_FILE = /\.(html|js|css)$/;
const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wgsl": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".md": "text/plain; charset=utf-8",
};

/** What {@linkcode buildSite} wrote. */
export interface SiteSummary {
  /** The folder. */
  dir: string;
  /** Files written, relative to `dir`. */
  files: string[];
  /** Bytes written. */
  bytes: number;
}

async function walk(dir: URL, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(rel, dir))) {
    const p = `${rel}${e.name}`;
    if (e.isDirectory) out.push(...await walk(dir, `${p}/`));
    else if (e.isFile) out.push(p);
  }
  return out.sort();
}

/**
 * Builds the playground site into `dir` (emptied first).
 *
 * @param dir Destination folder (a path).
 * @returns The files written.
 */
export async function buildSite(dir: string): Promise<SiteSummary> {
  const out = dir.replace(/\/+$/, "");
  await Deno.remove(out, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const files: string[] = [];
  let bytes = 0;
  const write = async (rel: string, data: Uint8Array) => {
    const path = `${out}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, data);
    files.push(rel);
    bytes += data.length;
  };
  await Deno.mkdir(`${out}/dist`, { recursive: true });
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform",
      "browser",
      "-o",
      `${out}/dist/marl-webgpu.js`,
      new URL("web.ts", ROOT).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!bundled.success) {
    throw new Error(
      `Cannot build site: deno bundle failed: ${new TextDecoder().decode(bundled.stderr)}`,
    );
  }
  const bundle = await Deno.stat(`${out}/dist/marl-webgpu.js`);
  files.push("dist/marl-webgpu.js");
  bytes += bundle.size;
  const shaders = new URL("shaders/", ROOT);
  for (const rel of await walk(shaders)) {
    if (rel.endsWith(".wgsl")) {
      await write(`shaders/${rel}`, await Deno.readFile(new URL(rel, shaders)));
    }
  }
  const page = new URL("examples/playground/", ROOT);
  for await (const e of Deno.readDir(page)) {
    if (e.isFile && PAGE_FILE.test(e.name)) {
      await write(e.name, await Deno.readFile(new URL(e.name, page)));
    }
  }
  await write("vendor/chart.umd.min.js", new TextEncoder().encode(await chartJsBundle()));
  const policies = new URL("policies/", page);
  for (const rel of await walk(policies)) {
    if (/\.(safetensors|json|md)$/.test(rel)) {
      await write(`policies/${rel}`, await Deno.readFile(new URL(rel, policies)));
    }
  }
  return { dir: out, files, bytes };
}

/**
 * Serves a folder over HTTP on localhost (GET only; `index.html` for folders).
 *
 * @param dir The folder.
 * @param port Port to listen on (0: any free port).
 * @returns The server; `server.addr.port` is the port.
 */
export function serveSite(dir: string, port: number): Deno.HttpServer<Deno.NetAddr> {
  const root = dir.replace(/\/+$/, "");
  return Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    let path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("forbidden", { status: 403 });
    if (path.endsWith("/")) path += "index.html";
    try {
      const body = await Deno.readFile(`${root}${path}`);
      const type = TYPES[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type, "cache-control": "no-store" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

async function siteMain(argv: readonly string[]): Promise<number> {
  let dir = new URL("site", ROOT).pathname, serve: number | null = null;
  for (const a of argv) {
    const m = /^--serve(?:=(\d+))?$/.exec(a);
    if (m) serve = m[1] ? Number(m[1]) : 8000;
    else if (a === "--help" || a === "-h") {
      console.log("Usage: deno task site [folder] [--serve[=port]]");
      return 0;
    } else if (a.startsWith("--")) {
      console.error(`error: Cannot parse arguments: unknown option "${a}"`);
      return 1;
    } else dir = a;
  }
  try {
    const s = await buildSite(dir);
    console.log(
      `site: ${s.files.length} files, ${
        (s.bytes / 1024).toFixed(0)
      } KiB in ${s.dir}/ (serve it with any static server)`,
    );
    if (serve !== null) {
      const server = serveSite(s.dir, serve);
      console.log(`serving http://127.0.0.1:${server.addr.port}/ (Ctrl-C to stop)`);
      await server.finished;
    }
    return 0;
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await siteMain(Deno.args));
