/**
 * `deno task export`: run folders to one JSON file in marl-eval's format (app/marl_eval.ts), the
 * format BenchMARL and Mava export to, so our runs can be aggregated and plotted next to theirs
 * with marl-eval or rliable. Mapping: docs/statistics.md §6.
 *
 * ```sh
 * deno task export runs/seac_lbf runs/iac_lbf --out lbf.json    # two runs, every seed
 * deno task export runs --out all.json --metric return          # every run under a root
 * ```
 *
 * @module
 */
import { findTask } from "../envs/registry.ts";
import {
  type ExportRun,
  type MarlEvalExport,
  type MarlEvalOptions,
  toMarlEval,
  validateMarlEval,
} from "./marl_eval.ts";
import {
  collectFolders,
  envLabel,
  exists,
  parseYaml,
  readMetricsRows,
  RUN_FILES,
  writeFileAtomic,
} from "./run_files.ts";

/** What {@linkcode exportMarlEval} produced. */
export interface ExportResult extends MarlEvalExport {
  /** The seed folders read. */
  dirs: string[];
  /** Problems marl-eval would have with the file (see `validateMarlEval`). */
  problems: string[];
}

/**
 * The seed folders under `paths`: a folder with a `config.yaml` is one; any other folder is
 * searched (a run folder's `seed-<k>/` folders, a runs root's run folders), down to `depth` levels.
 *
 * @param paths Seed folders, run folders or runs roots.
 * @param depth How many levels below each path to search. Default 3.
 * @returns The seed folders, in path order then name order.
 */
export async function findSeedDirs(paths: readonly string[], depth = 3): Promise<string[]> {
  const out: string[] = [];
  const isSeed = (dir: string) => exists(`${dir}/${RUN_FILES.config}`);
  for (const p of paths) {
    const dir = p.replace(/\/+$/, "") || "/";
    try {
      if (!(await Deno.stat(dir)).isDirectory) {
        throw new TypeError(`Cannot export "${dir}": not a folder`);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new TypeError(`Cannot export "${dir}": folder not found`);
      }
      throw e;
    }
    const before = out.length;
    await collectFolders(dir, depth, isSeed, out);
    if (out.length === before) {
      throw new TypeError(`Cannot export "${dir}": no run folder (with ${RUN_FILES.config}) in it`);
    }
  }
  return out;
}

/**
 * Reads one seed folder: its config (env family through the env registry, task label, algorithm,
 * seed) and metrics rows.
 *
 * @param dir A seed folder.
 * @returns The run.
 */
export async function readExportRun(dir: string): Promise<ExportRun> {
  const path = `${dir}/${RUN_FILES.config}`;
  const cfg = await parseYaml(await Deno.readTextFile(path), path);
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) {
    throw new TypeError(`Cannot read "${path}": not a map`);
  }
  const { env, algo, seed } = cfg as Record<string, unknown>;
  const algoName = (algo as Record<string, unknown> | undefined)?.name;
  if (typeof algoName !== "string") throw new TypeError(`Cannot read "${path}": no algo.name`);
  if (!Number.isInteger(seed)) throw new TypeError(`Cannot read "${path}": seed is ${seed}`);
  let family: string;
  try {
    family = findTask(env as Parameters<typeof findTask>[0]).spec.family;
  } catch (e) {
    throw new TypeError(`Cannot read "${path}": ${(e as Error).message}`);
  }
  return {
    family,
    task: envLabel(env),
    algo: algoName,
    seed: seed as number,
    dir,
    rows: await readMetricsRows(dir),
  };
}

/**
 * Reads every seed folder under `paths` and builds the marl-eval object, with the problems
 * marl-eval would report.
 *
 * @param paths Seed folders, run folders or runs roots.
 * @param options Metrics and algorithm naming.
 * @returns The object, notes on left-out rows, problems, and the folders read.
 */
export async function exportMarlEval(
  paths: readonly string[],
  options: MarlEvalOptions = {},
): Promise<ExportResult> {
  if (paths.length === 0) throw new TypeError("Cannot export: no run folders given");
  const dirs = await findSeedDirs(paths);
  const runs: ExportRun[] = [];
  for (const d of dirs) runs.push(await readExportRun(d));
  const built = toMarlEval(runs, options);
  return { ...built, dirs, problems: validateMarlEval(built.data) };
}

/** Usage of `deno task export`. */
export const EXPORT_USAGE =
  `Usage: deno task export <run dir | runs root> [...] [--out file.json] [--metric NAME ...]
                        [--algo-name algo|folder]

Writes the runs' metrics in marl-eval's JSON format (env family / task / algorithm / seed_<k> /
step_<i>; absolute_metrics: the last exported value). Default output: ./marl_eval.json.
  --metric NAME   return (default), eval_return (rows with an evaluation; absolute: the best
                  model's evaluation), episode_length, steps_per_second, or an algorithm
                  scalar; repeat or separate with commas for several
  --algo-name     algo (default): the algorithm's name; folder: the run folder's name, to
                  export several runs of one algorithm on one task side by side`;

async function exportMain(argv: readonly string[]): Promise<number> {
  try {
    const paths: string[] = [];
    const metrics: string[] = [];
    let out = "marl_eval.json";
    let algoName: "algo" | "folder" = "algo";
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const eq = a.indexOf("=");
      const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [
        a,
        undefined,
      ];
      const value = () => {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new TypeError(`Cannot parse arguments: ${flag} needs a value`);
        return v;
      };
      if (a === "--help" || a === "-h") {
        console.log(EXPORT_USAGE);
        return 0;
      } else if (flag === "--out") out = value();
      else if (flag === "--metric") metrics.push(...value().split(",").filter((m) => m));
      else if (flag === "--algo-name") {
        const v = value();
        if (v !== "algo" && v !== "folder") {
          throw new TypeError(
            `Cannot parse arguments: --algo-name must be algo or folder, got "${v}"`,
          );
        }
        algoName = v;
      } else if (a.startsWith("--")) {
        throw new TypeError(`Cannot parse arguments: unknown option "${a}"`);
      } else paths.push(a);
    }
    if (paths.length === 0) {
      throw new TypeError(`Cannot export: no run folders given\n${EXPORT_USAGE}`);
    }
    const result = await exportMarlEval(paths, {
      metrics: metrics.length ? metrics : undefined,
      algoName,
    });
    await writeFileAtomic(
      out,
      new TextEncoder().encode(JSON.stringify(result.data, null, 2) + "\n"),
    );
    for (const n of result.notes) console.error(`note: ${n}`);
    for (const p of result.problems) console.error(`warning: marl-eval would reject: ${p}`);
    const exported = Object.values(result.data).flatMap((t) =>
      Object.values(t).flatMap((a) =>
        Object.values(a).flatMap((r) => Object.keys(r))
      )
    ).length;
    console.log(`export: ${out} (${exported} runs from ${result.dirs.length} seed folders)`);
    return 0;
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await exportMain(Deno.args));
