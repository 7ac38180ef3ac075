/**
 * Replay of Pursuit golden files (`family: "pursuit"`, PettingZoo `sisl/pursuit-v5`) on the CPU
 * reference and on the GPU env, built from the header's `config` (`pursuitConfigFromGolden`:
 * grid, pursuers, evaders, observation range, capture rule, rewards, `max_cycles` …). Reset lines
 * are checked against the placement rules (§4 of `docs/envs/pursuit.md`) and their observations;
 * every step replays from its recorded state and actions with the recorded evader moves
 * (`evader_actions`, one per surviving evader in id order) instead of draws.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { GoldenFile, GoldenStep } from "../golden.ts";
import {
  agentMajorActions,
  agentRows,
  type GoldenReplay,
  type GoldenReplayOptions,
  type GoldenReplayResult,
  MismatchLog,
  numberedLines,
  numberedSteps,
  requireConfigKeys,
  requiredField,
  stepRecordedStates,
  whereOf,
} from "../golden_replay.ts";
import { createPursuitEnv } from "./env.ts";
import { pursuitMapReference, pursuitObsReference, pursuitStepReference } from "./reference.ts";
import {
  type PursuitConfig,
  pursuitConfigFromGolden,
  type PursuitGoldenState,
  pursuitSpec,
  type PursuitState,
  pursuitStateFromGolden,
} from "./state.ts";

const CONFIG_KEYS = [
  "x_size",
  "y_size",
  "n_pursuers",
  "n_evaders",
  "obs_range",
  "n_catch",
  "surround",
  "max_cycles",
  "tag_reward",
  "catch_reward",
  "urgency_reward",
];

function configOf(file: GoldenFile): PursuitConfig {
  requireConfigKeys(file.header, { keys: CONFIG_KEYS, family: "Pursuit" });
  const c = file.header.config;
  return {
    ...pursuitConfigFromGolden(file.header),
    // Parameters with the reference's defaults may be left out of a header.
    freezeEvaders: Boolean(c.freeze_evaders ?? false),
    constraintWindow: (c.constraint_window ?? 1) as number,
    sharedReward: Boolean(c.shared_reward ?? true),
  };
}

function toGolden(s: PursuitState): PursuitGoldenState {
  return {
    frames: s.frames,
    pursuers: s.pursuers.map((p) => [p.x, p.y]),
    evaders: s.evaders.map((v) => [v.id, v.x, v.y]),
  };
}

/** §4's placement rules of a reset state, as mismatches ("state.reset_rules"). */
function checkResetRules(log: MismatchLog, cfg: PursuitConfig, s: PursuitState): void {
  const map = pursuitMapReference(cfg);
  log.same(
    "state.counts",
    [s.frames, s.pursuers.length, s.evaders.length],
    [0, cfg.numPursuers, cfg.numEvaders],
  );
  log.same("state.evader_ids", s.evaders.map((v) => v.id), [...Array(cfg.numEvaders).keys()]);
  for (const [kind, group] of [["pursuers", s.pursuers], ["evaders", s.evaders]] as const) {
    group.forEach((c, i) => {
      if (map[c.x]?.[c.y] !== false) log.record(`state.${kind}[${i}]`, [c.x, c.y], "an open cell");
      for (let j = 0; j < i; j++) {
        if (Math.abs(group[j].x - c.x) + Math.abs(group[j].y - c.y) <= 1) {
          log.record(`state.${kind}[${i}]`, [c.x, c.y], `not touching ${kind}[${j}]`);
        }
      }
    });
  }
}

function evaderMoves(file: GoldenFile, line: GoldenStep, n: number): number[] {
  return requiredField<number[]>(line, { field: "evader_actions", file, lineNumber: n });
}

/**
 * Replays every line of a Pursuit golden file on the CPU reference.
 *
 * @param file A parsed golden file of family "pursuit".
 * @param options Float tolerance (0 checks the float64 rewards bit for bit).
 * @returns The mismatches and stats: "captures", "truncations", "episode ends".
 */
export function replayPursuitGoldenCpu(
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): GoldenReplayResult {
  const cfg = configOf(file);
  const log = new MismatchLog("cpu", options);
  let captures = 0, truncations = 0, ends = 0;
  for (const [line, n] of numberedLines(file as GoldenFile<PursuitGoldenState>)) {
    log.at(n, whereOf(line));
    if (line.kind === "reset") {
      const s = pursuitStateFromGolden(line.state, { episode: line.episode });
      checkResetRules(log, cfg, s);
      log.same("obs", pursuitObsReference(cfg, s), line.obs);
      continue;
    }
    const drawn = evaderMoves(file, line, n);
    const res = pursuitStepReference(
      cfg,
      pursuitStateFromGolden(line.state),
      line.actions,
      (_id, index) => drawn[index],
    );
    log.same("evader_actions", res.evaderActions, drawn);
    log.close("rewards", res.rewards, line.rewards);
    log.same("terminated", line.rewards.map(() => res.terminated), line.terminated);
    log.same("truncated", line.rewards.map(() => res.truncated), line.truncated);
    log.same("state_after", toGolden(res.state), line.state_after);
    log.same("obs", pursuitObsReference(cfg, res.state), line.obs);
    captures += res.caught.length;
    if (res.truncated) truncations++;
    if (res.terminated || res.truncated) ends++;
  }
  return { mismatches: log.mismatches, stats: { captures, truncations, "episode ends": ends } };
}

/** What {@linkcode replayPursuitGoldenGpu} returns: the result, and the batch it ran. */
export interface PursuitGpuReplay extends GoldenReplayResult {
  readonly cfg: PursuitConfig;
  /** The env seed (used by auto-resets). */
  readonly seed: number;
  /** The recorded states, one env each. */
  readonly states: readonly PursuitState[];
  /** Agent-major actions `[numPursuers, numEnvs]`. */
  readonly actions: Uint32Array;
  /** The injected evader moves `[numEnvs, numEvaders]` by evader id (99 for caught evaders). */
  readonly evaderActions: Uint32Array;
  /** What the GPU env held after the step. */
  readonly read: Awaited<ReturnType<typeof stepRecordedStates<PursuitState>>>;
}

/**
 * Replays every step line of a Pursuit golden file on the GPU env, all in one dispatch, with the
 * recorded evader moves injected.
 *
 * @param engine Engine to build the env on.
 * @param file A parsed golden file of family "pursuit" with at least one step line.
 * @param options Float tolerance.
 * @returns The mismatches, the stats ("episode ends") and the batch.
 */
export async function replayPursuitGoldenGpu(
  engine: Engine,
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): Promise<PursuitGpuReplay> {
  const cfg = configOf(file);
  const lines = numberedSteps(file as GoldenFile<PursuitGoldenState>);
  const n = lines.length, N = cfg.numPursuers, E = cfg.numEvaders;
  const seed = file.header.seed >>> 0;
  const states = lines.map(([l], e) =>
    pursuitStateFromGolden(l.state, { episode: l.episode, cycles: 3 * e + l.state.frames })
  );
  const actions = agentMajorActions(lines.map(([l]) => l.actions), N);
  // The recorded moves belong to the evaders that survived the capture, in id order.
  const evaderActions = new Uint32Array(n * Math.max(1, E)).fill(99);
  lines.forEach(([l, k], e) => {
    const survivors = l.state_after.evaders;
    evaderMoves(file, l, k).forEach((a, j) => {
      if (j < survivors.length) evaderActions[e * E + survivors[j][0]] = a;
    });
  });
  const env = await createPursuitEnv(engine, pursuitSpec(cfg, file.header.env), {
    numEnvs: n,
    seed,
  });
  const read = await stepRecordedStates(engine, env, {
    states,
    actions,
    encode(enc) {
      env.writeEvaderActions(evaderActions);
      env.encodeStepInjected(enc);
    },
  });
  const log = new MismatchLog("gpu", options);
  const dim = cfg.obsRange * cfg.obsRange * 3;
  let ends = 0;
  lines.forEach(([l, lineNumber], e) => {
    log.at(lineNumber, whereOf(l));
    const terminated = read.terminated[e] === 1, truncated = read.truncated[e] === 1;
    const rows = { numEnvs: n, numAgents: N };
    log.close("rewards", agentRows(read.reward, e, { ...rows, dim: 1 }).flat(), l.rewards);
    log.same("terminated", l.rewards.map(() => terminated), l.terminated);
    log.same("truncated", l.rewards.map(() => truncated), l.truncated);
    const ended = terminated || truncated;
    log.same("obs", agentRows(ended ? read.terminalObs : read.obs, e, { ...rows, dim }), l.obs);
    if (ended) {
      ends++;
      return;
    }
    log.same("state_after", toGolden(read.states[e]), l.state_after);
    log.same("episodeStep", read.episodeStep[e], l.state_after.frames);
  });
  return {
    mismatches: log.mismatches,
    stats: { "episode ends": ends },
    cfg,
    seed,
    states,
    actions,
    evaderActions,
    read,
  };
}

/** The Pursuit entry of the replay table (`envs/parity.ts`). */
export const PURSUIT_GOLDEN_REPLAY: GoldenReplay = Object.freeze({
  envFamily: "pursuit",
  replayCpu: replayPursuitGoldenCpu,
  replayGpu: replayPursuitGoldenGpu,
});
