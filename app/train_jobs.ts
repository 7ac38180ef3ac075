/**
 * The seed jobs of a run: fresh or resumed seed folders (`resumeJobs`, which checks a resumed
 * folder's config against its checkpoint), and how they run — batched in one trainer or one
 * after another (`groupSeeds`, `buildSeedBatch`; docs/statistics.md §8).
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import { findAlgorithm } from "../algorithms/mod.ts";
import type { AlgorithmDef, Trainer } from "../algorithms/trainer.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { configToYaml, type ExperimentConfig, parseYaml, validateConfig } from "./config.ts";
import { exists, RUN_FILES } from "./run_files.ts";

/** One seed of a run: its folder, effective config, progress label and whether it resumes. */
export interface SeedJob {
  dir: string;
  config: ExperimentConfig;
  label: string;
  resume: boolean;
}

/**
 * Builds S seeds of `config` in one trainer (its family's `createSeeds`).
 *
 * @param engine Engine that owns the device.
 * @param config The validated config of seed 0 (`seed`; `numEnvs` per seed).
 * @param seeds S.
 * @returns The batched trainer.
 */
export async function buildSeedBatch(
  engine: Engine,
  config: ExperimentConfig,
  seeds: number,
): Promise<Trainer> {
  const def = findAlgorithm(config.algo.name) as AlgorithmDef<object>;
  if (!def.createSeeds) {
    throw new TypeError(
      `Cannot batch seeds: "${config.algo.name}" runs its seeds one after another`,
    );
  }
  const { name: _name, ...algo } = config.algo;
  return await def.createSeeds(engine, config, algo, seeds);
}

/**
 * How seed jobs run: all in one batch when the family batches seeds (and, on resume, every seed's
 * checkpoint is at the same env steps or none has one), else one after another, saying why.
 */
export async function groupSeeds(
  jobs: SeedJob[],
  write: (t: string) => void,
): Promise<SeedJob[][]> {
  if (jobs.length === 1) return [jobs];
  const algo = jobs[0].config.algo.name;
  const def = findAlgorithm(algo) as AlgorithmDef<object>;
  const one = () => jobs.map((j) => [j]);
  if (!def.createSeeds) {
    write(`seeds run one after another: ${algo} does not batch seeds (docs/statistics.md §8)\n`);
    return one();
  }
  if (jobs[0].resume) {
    const steps = await Promise.all(jobs.map(async (j) => {
      const path = `${j.dir}/${RUN_FILES.checkpoint}`;
      return await exists(path) ? (await readCheckpoint(path)).metadata.envSteps : "none";
    }));
    if (new Set(steps).size > 1) {
      write(
        `seeds resume one after another: their checkpoints are at different env steps (${
          steps.join(", ")
        })\n`,
      );
      return one();
    }
  }
  return [jobs];
}

export async function resumeJobs(
  dir: string,
  overrides: readonly (readonly [string, string])[],
): Promise<SeedJob[]> {
  const seedDirs: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && /^seed-\d+$/.test(e.name)) seedDirs.push(`${dir}/${e.name}`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot resume "${dir}": folder not found`);
    }
    if (e instanceof Deno.errors.NotADirectory) {
      throw new TypeError(`Cannot resume "${dir}": it is a file; give the run folder`);
    }
    throw e;
  }
  seedDirs.sort((a, b) => Number(a.split("-").at(-1)) - Number(b.split("-").at(-1)));
  const dirs = seedDirs.length ? seedDirs : [dir];
  const jobs: SeedJob[] = [];
  for (const d of dirs) {
    const ckpt = `${d}/${RUN_FILES.checkpoint}`, yaml = `${d}/${RUN_FILES.config}`;
    const fromCkpt = await exists(ckpt)
      ? validateConfig((await readCheckpoint(ckpt)).config, ckpt)
      : null;
    const fromYaml = await exists(yaml)
      ? validateConfig(await parseYaml(await Deno.readTextFile(yaml), yaml), yaml)
      : null;
    if (!fromCkpt && !fromYaml) {
      throw new TypeError(
        `Cannot resume "${d}": it has neither ${RUN_FILES.checkpoint} nor ${RUN_FILES.config}`,
      );
    }
    if (fromCkpt && fromYaml) {
      // The checkpoint's config is what its tensors were built from; an edited config.yaml, or a
      // checkpoint of another run (algorithm, task, sizes) copied in, would silently lie.
      const diff = configDiff(fromYaml, fromCkpt);
      if (diff.length > 0) {
        throw new TypeError(
          `Cannot resume "${d}": ${RUN_FILES.config} differs from the checkpoint's config: ${
            diff[0]
          }${
            diff.length > 1 ? ` (and ${diff.length - 1} more)` : ""
          }; restore ${RUN_FILES.config} or start a new run (only --totalSteps may change on resume)`,
        );
      }
    }
    let config = (fromCkpt ?? fromYaml)!;
    for (const [key, value] of overrides) {
      // Extending a run (a finished one too): the only change a resume accepts (app/run.ts).
      if (key !== "totalSteps") throw new TypeError(`Cannot resume "${d}": cannot change ${key}`);
      config = validateConfig({ ...structuredClone(config), totalSteps: Number(value) }, key);
      await Deno.writeTextFile(yaml, configToYaml(config));
    }
    jobs.push({ dir: d, config, label: d.split("/").slice(-2).join("/"), resume: true });
  }
  return jobs;
}

/**
 * The settings that differ between two validated configs, as `path: a in config.yaml, b in the
 * checkpoint` (paths dotted, in key order; the run name is not a setting).
 */
function configDiff(yaml: ExperimentConfig, ckpt: ExperimentConfig): string[] {
  const flat = (v: unknown, path: string, out: Map<string, string>) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) flat(x, path ? `${path}.${k}` : k, out);
    } else out.set(path, JSON.stringify(v));
    return out;
  };
  const a = flat(yaml, "", new Map()), b = flat(ckpt, "", new Map());
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => k !== "name");
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) =>
    `${k}: ${a.get(k) ?? "(absent)"} in ${RUN_FILES.config}, ${
      b.get(k) ?? "(absent)"
    } in the checkpoint`
  );
}
