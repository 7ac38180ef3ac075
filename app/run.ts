/**
 * CLI behind `deno task run`: runs an experiment from a preset or a YAML config, with overrides.
 *
 * ```sh
 * deno task run                                   # the default experiment (DEFAULT_PRESET)
 * deno task run random_lbf --totalSteps=6400      # a preset, with an override
 * deno task run my.yaml --algo.lr=1e-3 --seeds 3  # a config file, three seeds
 * deno task run --resume runs/<name>              # continue a run from its last checkpoint
 * deno task run --list                            # presets with their paper source and result
 * ```
 *
 * @module
 */
import { type ExperimentConfig, parseConfig } from "./config.ts";
import { explainError } from "./errors.ts";
import { adapterCosts, calibrate, longRunWarning, saveCalibration } from "./estimate_probe.ts";
import { presetDetailsText, presetTableText } from "./preset_list.ts";
import { findPreset } from "./presets.ts";
import { train, type TrainOptions } from "./train.ts";

/** The preset `deno task run` runs when given no config. */
export const DEFAULT_PRESET = "seac_quick";

/** Usage text of `deno task run --help`. */
export const USAGE = `Usage: deno task run [config.yaml | preset] [--key.path=value …] [options]

Runs one experiment and writes runs/<name>/: config.yaml, metrics.jsonl, metrics.csv,
checkpoint.safetensors and report.html. With no config, runs the preset "${DEFAULT_PRESET}".

Config overrides use the YAML key paths, e.g. --seed=2 --numEnvs=128 --totalSteps=1e5
--algo.lr=1e-3 --log.interval=5000 --name=my-run

Options:
  --seeds N       run N seeds (seed, seed+1, …; or "seeds: N" in the config) into
                  runs/<name>/seed-<seed>/, one report; the seeds train in the same GPU
                  dispatches, each exactly as if run alone (docs/statistics.md §8)
  --resume DIR    continue the run in DIR from its last checkpoint (same metrics as uninterrupted);
                  with --totalSteps=N, extend it (a finished run too)

Signals: SIGINT (Ctrl-C), SIGTERM and SIGUSR1 finish the running slice, write a checkpoint and
exit with status 75 ("resume me": deno task run --resume DIR); a second Ctrl-C quits at once.
(Deno opens its debugger on SIGUSR1 too: on shared machines send SIGTERM; the sweep's Slurm
script turns Slurm's USR1 warning into a SIGTERM.)
  --root DIR      folder for run folders (default runs)
  --plain         plain progress lines even on a terminal
  --quiet         no progress output
  --list [NAME]   the presets with their estimated time on this adapter; with NAME, one
                  preset's source, expected result, notes and estimate
  --calibrate     with --list: time every algorithm on this adapter first (minutes; cached)
  --help          show this help

Related: deno task eval <checkpoint>   deno task report <run dirs…>`;

/** Parsed command line of `deno task run`. */
export interface RunArgs {
  help: boolean;
  /** `--list`; the preset to detail, if any, is `config`. */
  list: boolean;
  /** `--calibrate` (with `--list`). */
  calibrate: boolean;
  config: string | null;
  overrides: [string, string][];
  seeds: number;
  resume: string | null;
  root: string;
  progress: TrainOptions["progress"];
}

const VALUE_FLAGS = ["seeds", "resume", "root"] as const;
/** The config keys `--resume` may change: extending a run. */
const RESUME_OVERRIDES: readonly string[] = ["totalSteps"];
const BOOL_FLAGS = ["help", "list", "calibrate", "plain", "quiet"] as const;

/**
 * Parses `deno task run` arguments; `--key=value` pairs that are not options are config overrides.
 *
 * @param argv The arguments (Deno.args).
 * @returns The parsed arguments.
 */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const out: RunArgs = {
    help: false,
    list: false,
    calibrate: false,
    config: null,
    overrides: [],
    seeds: 1,
    resume: null,
    root: "runs",
    progress: "auto",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h") {
      out.help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      if (out.config !== null) {
        throw new TypeError(
          `Cannot parse arguments: two configs given ("${out.config}", "${arg}")`,
        );
      }
      out.config = arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const key = arg.slice(2, eq < 0 ? undefined : eq);
    let value = eq < 0 ? null : arg.slice(eq + 1);
    if ((BOOL_FLAGS as readonly string[]).includes(key)) {
      if (value !== null) throw new TypeError(`Cannot parse arguments: --${key} takes no value`);
      if (key === "help") out.help = true;
      else if (key === "list") out.list = true;
      else if (key === "calibrate") out.calibrate = true;
      else out.progress = key === "plain" ? "plain" : "off";
    } else if ((VALUE_FLAGS as readonly string[]).includes(key)) {
      if (value === null) {
        value = argv[++i] ?? null;
        if (value === null || value.startsWith("--")) {
          throw new TypeError(`Cannot parse arguments: --${key} needs a value`);
        }
      }
      if (key === "seeds") {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) {
          throw new RangeError(
            `Cannot parse arguments: --seeds must be an integer >= 1, got "${value}"`,
          );
        }
        out.seeds = n;
      } else if (key === "resume") out.resume = value;
      else out.root = value;
    } else {
      if (value === null) {
        value = argv[++i] ?? null;
        if (value === null || value.startsWith("--")) {
          throw new TypeError(
            `Cannot parse arguments: "${arg}" needs a value (config overrides are --key.path=value; see --help)`,
          );
        }
      }
      out.overrides.push([key, value]);
    }
  }
  const changed = out.overrides.filter(([k]) => !RESUME_OVERRIDES.includes(k)).map(([k]) => k);
  if (out.resume && (out.config || changed.length || out.seeds !== 1)) {
    throw new TypeError(
      `Cannot parse arguments: --resume continues a run with its saved config; give no config, --seeds or overrides but --${
        RESUME_OVERRIDES.join("/--")
      }${changed.length ? ` (got --${changed.join(", --")})` : ""}`,
    );
  }
  return out;
}

/** Reads the config text of a file path or preset name. */
async function configText(arg: string): Promise<{ text: string; source: string }> {
  if (/\.ya?ml$/.test(arg) || arg.includes("/")) {
    try {
      return { text: await Deno.readTextFile(arg), source: arg };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new TypeError(`Cannot read config "${arg}": file not found`);
      }
      throw new TypeError(explainError(e, null, { path: arg, action: "read config" }));
    }
  }
  const p = await findPreset(arg);
  return { text: p.text, source: `${arg} (preset)` };
}

/**
 * The text of `--list` (a table of every preset with its estimated time on this adapter) or of
 * `--list NAME` (one preset's details).
 *
 * @param name The preset to detail, or null for the table.
 * @param options `calibrate`: time every algorithm on this adapter first (and cache it).
 * @returns The text.
 */
export async function presetListText(
  name: string | null = null,
  options: { calibrate?: boolean } = {},
): Promise<string> {
  if (options.calibrate) {
    await saveCalibration(
      await calibrate({
        onProgress: (algo, i, n) => console.error(`calibrating ${algo} (${i + 1}/${n})`),
      }),
    );
  }
  const costs = await adapterCosts();
  return name === null
    ? await presetTableText(costs, { defaultPreset: DEFAULT_PRESET })
    : await presetDetailsText(name, costs);
}

/**
 * Runs the CLI.
 *
 * @param argv Arguments.
 * @returns The exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let config: ExperimentConfig | null = null;
  try {
    const args = parseRunArgs(argv);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    if (args.list) {
      console.log(await presetListText(args.config, { calibrate: args.calibrate }));
      return 0;
    }
    // SIGINT (Ctrl-C), SIGTERM (Slurm, Kubernetes) and SIGUSR1 (Slurm's warning before a time
    // limit or preemption): finish the submitted work, checkpoint and exit RESUME_EXIT_CODE. A
    // second Ctrl-C exits at once (130).
    const stop = new AbortController();
    let stoppedAt = 0;
    const onStop = (name: string) => () => {
      // A terminal's Ctrl-C reaches this process twice at once (the terminal, and `deno task`
      // forwarding it): only a Ctrl-C at least a second later means "quit now".
      const now = performance.now();
      if (stop.signal.aborted) {
        if (name === "SIGINT" && now - stoppedAt > 1000) Deno.exit(130);
        return;
      }
      stoppedAt = now;
      stop.abort();
      console.error(
        `\n${name}: checkpointing after the running slice, then exit ${RESUME_EXIT_CODE}`,
      );
    };
    for (const sig of STOP_SIGNALS) Deno.addSignalListener(sig, onStop(sig));
    const options: TrainOptions = {
      root: args.root,
      seeds: args.seeds,
      progress: args.progress,
      signal: stop.signal,
    };
    let r;
    if (args.resume) {
      r = await train(undefined, { ...options, resume: args.resume, overrides: args.overrides });
    } else {
      const { text, source } = await configText(args.config ?? DEFAULT_PRESET);
      config = await parseConfig(text, { source, overrides: args.overrides });
      const note = args.progress === "off" ? null : await longRunWarning(config);
      if (note) console.error(`warning: ${note}`);
      r = await train(config, options);
    }
    return r.seeds.every((s) => s.finished) ? 0 : RESUME_EXIT_CODE;
  } catch (e) {
    console.error(`error: ${explainError(e, config)}`);
    return 1;
  }
}

/**
 * Exit status of a run stopped by a signal after writing its checkpoint: "resume me"
 * (`EX_TEMPFAIL`); continue with `deno task run --resume <run folder>`.
 */
export const RESUME_EXIT_CODE = 75;

/** The signals that stop a run with a checkpoint (SIGUSR1: Slurm's `--signal` warning). */
const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGUSR1"];

if (import.meta.main) Deno.exit(await main(Deno.args));
