/**
 * One-line messages for what goes wrong in front of a user: operating-system errors rephrased to
 * name the path and what to do (`Is a directory (os error 21): readfile 'x'` → `Cannot read "x":
 * it is a directory, not a file`), and the engine's GPU-limit errors, which name internal tensors
 * and kernels (`seac.act.actor.l0.y`), rephrased to name the config settings that size them, with
 * their values. Messages the project writes itself ("Cannot read config …") pass through.
 *
 * @module
 */

/**
 * What explainError reads of a config: an `ExperimentConfig` (app/config.ts) fits. Declared here
 * so that the report command, which loads no algorithm, can use this module.
 */
export interface ConfigLike {
  readonly numEnvs: number;
  readonly env: string | { readonly name: string };
  readonly algo: { readonly name: string };
}

/** Where an error happened, when the caller knows better than the error. */
export interface ErrorContext {
  /** The file or folder being worked on (OS errors do not always name it). */
  path?: string;
  /** What was being done to it, e.g. "read config" (default: from the error, e.g. "read"). */
  action?: string;
}

/** Verbs of the operation names Deno puts after an OS error (`… (os error 2): readfile 'x'`). */
const OPERATIONS: Readonly<Record<string, string>> = {
  readfile: "read",
  open: "open",
  read: "read",
  readdir: "list",
  stat: "read",
  lstat: "read",
  writefile: "write",
  write: "write",
  mkdir: "create folder",
  remove: "remove",
  rename: "rename",
  copy: "copy",
  realpath: "resolve",
  chmod: "change permissions of",
};

/** What each OS error means for the path, and what to do. */
const OS_ERRORS: readonly {
  kind: keyof typeof Deno.errors | null;
  code: number | null;
  state: string;
}[] = [
  { kind: "NotFound", code: 2, state: "no such file or folder (check the path)" },
  { kind: "IsADirectory", code: 21, state: "it is a directory, not a file (give a file in it)" },
  {
    kind: "NotADirectory",
    code: 20,
    state: "a part of the path is a file, not a folder (check the path)",
  },
  {
    kind: "AlreadyExists",
    code: 17,
    state: "it already exists (choose another name or remove it)",
  },
  {
    kind: "PermissionDenied",
    code: 13,
    state: "permission denied by the operating system (check the owner and mode)",
  },
  { kind: null, code: 28, state: "the disk is full (free space or write elsewhere, e.g. --root)" },
  { kind: null, code: 30, state: "the file system is read-only (write elsewhere, e.g. --root)" },
  { kind: null, code: 122, state: "the disk quota is exceeded (free space or write elsewhere)" },
];

/** The settings that size tensors whose label contains a word, most specific first. */
const LABEL_SETTINGS: readonly { pattern: RegExp; settings: readonly string[] }[] = [
  {
    pattern: /\b(replay|per|priority|prioritySum|sum|slots|buffer)\b/,
    settings: ["algo.bufferSize"],
  },
  {
    pattern: /\b(aip|dataset|dset|influence)\b/,
    settings: ["algo.datasetSize", "algo.aipBatch", "algo.aipHidden"],
  },
  { pattern: /\bgs\b/, settings: ["algo.gsEnvs", "algo.hidden"] },
  { pattern: /\beval\b/, settings: ["eval.envs", "algo.gsEnvs"] },
  {
    pattern: /\b(batch|learn|loss|sample|minibatch|select|pick|source)\b/,
    settings: ["algo.batchSize", "algo.numMinibatches", "numEnvs", "algo.hidden", "algo.dense"],
  },
  {
    pattern: /\b(rollout|storage|gae|returns|advantages)\b/,
    settings: ["numEnvs", "algo.nSteps", "algo.rolloutSteps", "algo.hidden"],
  },
  {
    pattern: /\b(params|grads|moments|adam|w|weights)\b/,
    settings: ["algo.hidden", "algo.hidden2", "algo.dense", "algo.embed", "algo.headHidden"],
  },
];

/** Settings that size most per-env activations. */
const DEFAULT_SETTINGS = ["numEnvs", "algo.hidden", "algo.hidden2", "algo.dense", "algo.embed"];

/**
 * The config settings that size a tensor, judged from its label (`<algo>.<part>.<name>`), each
 * with its value: only settings the config has. Env state (`lbf.state`, `rware.*` …) grows with
 * numEnvs.
 *
 * @param label A GPU label, e.g. "seac.act.actor.l0.y".
 * @param config The run's config, or null when unknown.
 * @returns Settings as "name (now value)", most likely first.
 */
export function settingsFor(label: string, config: ConfigLike | null): string[] {
  const words = label.split(".").join(" ");
  const found = LABEL_SETTINGS.find((r) => r.pattern.test(words));
  const candidates = found?.settings ?? DEFAULT_SETTINGS;
  const out: string[] = [];
  for (const path of candidates) {
    const v = config ? valueAt(config, path) : undefined;
    if (config && v === undefined) continue;
    out.push(v === undefined ? path : `${path} (now ${Array.isArray(v) ? `[${v}]` : v})`);
  }
  if (out.length === 0 && config) out.push(`numEnvs (now ${config.numEnvs})`);
  return out;
}

function valueAt(config: ConfigLike, path: string): unknown {
  let node: unknown = config;
  for (const k of path.split(".")) {
    if (typeof node !== "object" || node === null || !(k in node)) return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return node;
}

function mib(bytes: number): string {
  const m = bytes / 2 ** 20;
  return `${m >= 10 ? Math.round(m) : m.toFixed(1)} MiB`;
}

function lower(settings: string[]): string {
  if (settings.length === 0) return "use smaller sizes";
  if (settings.length === 1) return `lower ${settings[0]}`;
  return `lower ${settings.slice(0, -1).join(", ")} or ${settings.at(-1)}`;
}

function runName(config: ConfigLike | null): string {
  if (!config) return "run";
  const env = typeof config.env === "string" ? config.env : config.env.name;
  return `${config.algo.name} on ${env}`;
}

/** Rephrases the engine's size and limit errors (engine/kernel.ts, engine/device.ts). */
function explainLimit(message: string, config: ConfigLike | null): string | null {
  let m = /^Cannot bind "([^"]+)" to "[^"]+": (\d+) bytes exceed the device's (\w+) \((\d+)\)/
    .exec(message);
  if (m) {
    return `Cannot build ${runName(config)}: one GPU array (${m[1]}) needs ${
      mib(Number(m[2]))
    }, the adapter allows ${mib(Number(m[4]))} per binding (${m[3]}); ${
      lower(settingsFor(m[1], config))
    }`;
  }
  m = /^Cannot create "([^"]+)": needs (\d+) bytes, device allows (\d+) per buffer/.exec(message);
  if (m) {
    return `Cannot build ${runName(config)}: one GPU buffer (${m[1]}) needs ${
      mib(Number(m[2]))
    }, the adapter allows ${mib(Number(m[3]))} per buffer (maxBufferSize); ${
      lower(settingsFor(m[1], config))
    }`;
  }
  m = /^Cannot dispatch "([^"]+)": needs ([\d×]+) workgroups, device allows (\d+) per dimension/
    .exec(message);
  if (m) {
    return `Cannot run ${runName(config)}: kernel ${m[1]} needs ${
      m[2]
    } workgroups, the adapter allows ${m[3]} per dimension; ${lower(settingsFor(m[1], config))}`;
  }
  m = /^Cannot compile "([^"]+)": binds (\d+) storage buffers, device allows (\d+)/.exec(message);
  if (m) {
    return `Cannot build ${runName(config)}: kernel ${m[1]} binds ${
      m[2]
    } storage buffers and this adapter allows ${
      m[3]
    } (no setting changes this; use an adapter with more, or report it as a bug: every kernel should fit 8)`;
  }
  if (/out of memory|OutOfMemory|Not enough memory/i.test(message)) {
    const label = /\[[^\]]*"([^"]+)"\]/.exec(message)?.[1] ?? /"([\w.]+)"/.exec(message)?.[1];
    return `Cannot build ${runName(config)}: the adapter ran out of memory${
      label ? ` (at ${label})` : ""
    }; ${lower(label ? settingsFor(label, config) : config ? settingsFor("", config) : [])}`;
  }
  return null;
}

/** Rephrases an operating-system error (Deno.errors.*, or a message with "(os error N)"). */
function explainOs(e: Error, context: ErrorContext): string | null {
  const code = Number(/\(os error (\d+)\)/.exec(e.message)?.[1] ?? NaN);
  const known = OS_ERRORS.find((k) =>
    (k.kind !== null && e instanceof Deno.errors[k.kind]) || k.code === code
  );
  const detail = /\(os error \d+\)(?::\s*(\w+)\s+'([^']*)'(?:\s*->\s*'([^']*)')?)?/.exec(e.message);
  if (!known && !detail) return null;
  const path = context.path ?? detail?.[3] ?? detail?.[2];
  const verb = context.action ?? OPERATIONS[detail?.[1] ?? ""] ?? "use";
  const state = known?.state ?? e.message.replace(/\s*\(os error \d+\).*$/, "").toLowerCase();
  return path ? `Cannot ${verb} "${path}": ${state}` : `Cannot ${verb} a file: ${state}`;
}

/**
 * Turns an error into the one line `deno task run` prints after `error: `: OS errors name the
 * path and what to do; GPU-limit errors name the settings to lower (with their values, from
 * `config`); Deno permission errors say which flag to add; anything else keeps its message.
 *
 * @example A raw OS error, and a binding over the adapter's limit
 * ```ts
 * import { explainError } from "./errors.ts";
 *
 * const os = new Deno.errors.IsADirectory("Is a directory (os error 21): readfile 'runs'");
 * console.log(explainError(os, null, { action: "read config" }));
 * // Cannot read config "runs": it is a directory, not a file (give a file in it)
 * const gpu = new RangeError(
 *   'Cannot bind "seac.act.actor.l0.y" to "linear.forward": 268435456 bytes exceed the ' +
 *     "device's maxStorageBufferBindingSize (134217728)",
 * );
 * console.log(explainError(gpu, null)); // … needs 256 MiB, … allows 128 MiB …; lower numEnvs …
 * ```
 *
 * @param e What was thrown.
 * @param config The run's config when it was already read, else null.
 * @param context The path and action, when the caller knows them.
 * @returns One line, without the `error: ` prefix.
 */
export function explainError(
  e: unknown,
  config: ConfigLike | null = null,
  context: ErrorContext = {},
): string {
  if (!(e instanceof Error)) return String(e);
  if (e instanceof Deno.errors.NotCapable || /^Requires \w+ access to/.test(e.message)) {
    const m = /^Requires (\w+) access to "?([^",]*)"?, run again with the (--[\w-]+) flag/.exec(
      e.message,
    );
    return m
      ? `Cannot ${m[1]} "${m[2]}": Deno was not given ${m[1]} permission (run with ${
        m[3]
      }, as deno task run does)`
      : e.message;
  }
  if (e instanceof Deno.errors.BrokenPipe) {
    return "Cannot write output: the reader of stdout went away (output was piped to a command that ended)";
  }
  const os = explainOs(e, context);
  if (os) return os;
  const limit = explainLimit(e.message, config);
  if (limit) return limit;
  if (context.path && e instanceof Deno.errors.InvalidData) {
    return `Cannot ${context.action ?? "read"} "${context.path}": ${e.message}`;
  }
  return e.message;
}
