/**
 * Loader for golden trajectories (`peers-golden/1` JSON Lines, see `tests/fixtures/golden/README.md`):
 * a header line (the contract: config, state fields, step order, observation layout), then
 * `reset` and `step` lines. Generic over the env family: the family's state type is a type
 * parameter and stays plain JSON here; each env converts it into its own state.
 *
 * ```ts ignore
 * const file = await loadGolden<LbfGoldenState>("Foraging-10x10-3p-3f/0.jsonl");
 * for (const s of file.steps) replay(s.state, s.actions, s.state_after);
 * ```
 *
 * @module
 */

/** Format tag every golden file's header carries. */
export const GOLDEN_FORMAT = "peers-golden/1";

/** Line 1 of a golden file. Family-specific keys are kept as they are. */
export interface GoldenHeader {
  readonly kind: "header";
  readonly format: string;
  /** Task name as our registry spells it (e.g. "Foraging-8x8-2p-2f-coop"). */
  readonly env: string;
  /** The reference's id (e.g. "Foraging-8x8-2p-2f-coop-v3"), when it has one. */
  readonly env_id?: string;
  /** Env family ("lbf", "rware", "pursuit"). */
  readonly family: string;
  /** Constructor parameters of the reference env. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly n_agents: number;
  readonly n_actions: number;
  readonly n_steps: number;
  readonly [key: string]: unknown;
}

/** A `reset` line: the state and observations right after a reset. */
export interface GoldenReset<S = unknown> {
  readonly kind: "reset";
  readonly episode: number;
  /** The seed passed to `reset(seed=…)`, or null when the env's stream continued. */
  readonly seed: number | null;
  readonly state: S;
  /** Per-agent observations, in agent order. */
  readonly obs: unknown;
  /** Family extras named in the header's `reset_extras` (e.g. `spawn_hits`). */
  readonly [extra: string]: unknown;
}

/** A `step` line: state before, actions, extras, results, state after and its observations. */
export interface GoldenStep<S = unknown> {
  readonly kind: "step";
  readonly episode: number;
  /** Step index within the episode (0-based). */
  readonly t: number;
  readonly state: S;
  readonly actions: readonly number[];
  readonly rewards: readonly number[];
  readonly terminated: readonly boolean[];
  readonly truncated: readonly boolean[];
  readonly state_after: S;
  /** Observations returned by the step (of `state_after`). */
  readonly obs: unknown;
  /** Family extras named in the header's `step_extras` (e.g. `effective_actions`). */
  readonly [extra: string]: unknown;
}

/** One parsed golden file. */
export interface GoldenFile<S = unknown> {
  /** Where it was read from (for messages). */
  readonly path: string;
  readonly header: GoldenHeader;
  /** Reset and step lines, in file order. */
  readonly lines: readonly (GoldenReset<S> | GoldenStep<S>)[];
  readonly resets: readonly GoldenReset<S>[];
  readonly steps: readonly GoldenStep<S>[];
  /** The 1-based line of the file each entry of `lines` was read from (blank lines skipped). */
  readonly lineNumbers: readonly number[];
}

/**
 * Parses the text of a golden file. Checks the header's format and that every other line is a
 * `reset` or `step` line with the fields every family has; family fields are not checked.
 *
 * @param text The file's contents (JSON Lines).
 * @param path Name used in error messages.
 * @returns The header and the lines, in file order.
 */
export function parseGolden<S = unknown>(text: string, path = "golden"): GoldenFile<S> {
  const raw = text.split("\n").map((l, i) => ({ l, n: i + 1 })).filter(({ l }) => l.trim() !== "");
  if (raw.length === 0) throw new SyntaxError(`Cannot parse golden file "${path}": it is empty`);
  const rows = raw.map(({ l, n }) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch (e) {
      throw new SyntaxError(
        `Cannot parse golden file "${path}": line ${n} is not JSON (${(e as Error).message})`,
      );
    }
  });
  const header = rows[0] as unknown as GoldenHeader;
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SyntaxError(`Cannot parse golden file "${path}": line 1 is not a JSON object`);
  }
  if (header.kind !== "header" || header.format !== GOLDEN_FORMAT) {
    throw new SyntaxError(
      `Cannot parse golden file "${path}": line 1 is kind "${header.kind}", format "${header.format}", want a "${GOLDEN_FORMAT}" header`,
    );
  }
  const lines: (GoldenReset<S> | GoldenStep<S>)[] = [];
  const resets: GoldenReset<S>[] = [];
  const steps: GoldenStep<S>[] = [];
  const lineNumbers: number[] = [];
  rows.slice(1).forEach((row, i) => {
    const where = `line ${raw[i + 1].n}`;
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new SyntaxError(`Cannot parse golden file "${path}": ${where} is not a JSON object`);
    }
    lineNumbers.push(raw[i + 1].n);
    if (row.kind === "reset") {
      requireFields(path, where, row, ["episode", "state", "obs"]);
      const r = row as unknown as GoldenReset<S>;
      lines.push(r);
      resets.push(r);
    } else if (row.kind === "step") {
      requireFields(path, where, row, [
        "episode",
        "t",
        "state",
        "actions",
        "rewards",
        "terminated",
        "truncated",
        "state_after",
        "obs",
      ]);
      const s = row as unknown as GoldenStep<S>;
      lines.push(s);
      steps.push(s);
    } else {
      throw new SyntaxError(
        `Cannot parse golden file "${path}": ${where} has kind "${row.kind}", want "reset" or "step"`,
      );
    }
  });
  return { path, header, lines, resets, steps, lineNumbers };
}

function requireFields(
  path: string,
  where: string,
  row: Record<string, unknown>,
  fields: readonly string[],
): void {
  for (const f of fields) {
    if (!(f in row)) {
      throw new SyntaxError(
        `Cannot parse golden file "${path}": ${where} (${row.kind}) has no field "${f}"`,
      );
    }
  }
}

/**
 * The golden data folder: `$GOLDEN_DIR` when set, else the fixture set shipped with the
 * repository (`tests/fixtures/golden/`).
 */
export function goldenDir(): URL {
  let env: string | undefined;
  try {
    env = Deno.env.get("GOLDEN_DIR");
  } catch {
    env = undefined; // no --allow-env: use the default
  }
  if (env) return new URL(env.endsWith("/") ? env : `${env}/`, `file://${Deno.cwd()}/`);
  return new URL("../tests/fixtures/golden/", import.meta.url);
}

/**
 * Reads and parses one golden file.
 *
 * @param path Path relative to {@linkcode goldenDir} (e.g. "Foraging-10x10-3p-3f/0.jsonl"), or a URL.
 * @returns The parsed file.
 */
export async function loadGolden<S = unknown>(path: string | URL): Promise<GoldenFile<S>> {
  const url = path instanceof URL ? path : new URL(path, goldenDir());
  const text = await Deno.readTextFile(url);
  return parseGolden<S>(text, path instanceof URL ? url.pathname : path);
}

/**
 * Lists the golden files whose task folder starts with `prefix` (e.g. "Foraging-"), sorted, as
 * paths relative to {@linkcode goldenDir}. Returns [] when the folder does not exist.
 *
 * @param prefix Start of the task folder names to include.
 * @returns Paths such as "Foraging-10x10-3p-3f/0.jsonl".
 */
export async function listGolden(prefix: string): Promise<string[]> {
  const dir = goldenDir();
  const out: string[] = [];
  try {
    for await (const task of Deno.readDir(dir)) {
      if (!task.isDirectory || !task.name.startsWith(prefix)) continue;
      for await (const f of Deno.readDir(new URL(`${task.name}/`, dir))) {
        if (f.isFile && f.name.endsWith(".jsonl")) out.push(`${task.name}/${f.name}`);
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort();
}
