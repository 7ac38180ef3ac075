/**
 * Replay of RWARE golden files (`family: "rware"`, the `rware-*-v2` reference) on the CPU
 * reference and on the GPU env, built from the header's `config` (`rwareConfigFromGolden`: shelf
 * blocks, column height, agents, request queue, sensor range, reward type, step limits, or a
 * layout string). The header's static map (`layout_rows`, `goals_xy`, `shelf_home_xy`) is
 * compared with our layout; every step replays from its recorded state, actions and request
 * refills (`request_replacements`). Steps flagged `conflict_tie` were decided by Python set
 * order (R1 in `docs/envs/rware.md`): there either winner is accepted on the CPU, and on the GPU
 * (which always takes the lowest id) the CPU reference's outcome for that rule.
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
import { createRwareEnv } from "./env.ts";
import {
  type RwareConfig,
  rwareConfigFromGolden,
  type RwareGoldenState,
  type RwareLayout,
  rwareLayout,
  rwareLayoutRows,
  rwareSpec,
  type RwareState,
  rwareStateFromGolden,
  rwareStateToGolden,
} from "./layout.ts";
import { rwareObsReference, rwareStepReference, type RwareStepResult } from "./reference.ts";

const CONFIG_KEYS = ["n_agents", "request_queue_size", "sensor_range"];

function configOf(file: GoldenFile): { cfg: RwareConfig; layout: RwareLayout } {
  requireConfigKeys(file.header, { keys: CONFIG_KEYS, family: "RWARE" });
  const cfg = rwareConfigFromGolden(file.header);
  return { cfg, layout: rwareLayout(cfg) };
}

/** A golden state with `shelves_moved` in shelf id order (the order we write). */
function sortedGolden(g: RwareGoldenState): RwareGoldenState {
  return { ...g, shelves_moved: [...g.shelves_moved].sort((a, b) => a[0] - b[0]) };
}

function refills(file: GoldenFile, line: GoldenStep, n: number): number[] {
  return requiredField<number[][]>(line, { field: "request_replacements", file, lineNumber: n })
    .map((r) => r[2]);
}

/** Compares one reference step with a step line; records into `log`. */
function compareStep(
  log: MismatchLog,
  layout: RwareLayout,
  res: RwareStepResult,
  line: GoldenStep<RwareGoldenState>,
): void {
  if (line.effective_actions !== undefined) {
    log.same("effective_actions", res.effectiveActions, line.effective_actions);
  }
  log.same("request_replacements", res.replacements, line.request_replacements);
  log.close("rewards", res.rewards, line.rewards);
  log.same("terminated", line.rewards.map(() => res.terminated), line.terminated);
  log.same("truncated", line.rewards.map(() => res.truncated), line.truncated);
  log.same("state_after", rwareStateToGolden(layout, res.state), sortedGolden(line.state_after));
  log.close("obs", res.obs, line.obs);
}

/**
 * Replays every line of an RWARE golden file on the CPU reference.
 *
 * @param file A parsed golden file of family "rware".
 * @param options Float tolerance.
 * @returns The mismatches and stats: "deliveries", "tie steps", "episode ends".
 */
export function replayRwareGoldenCpu(
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): GoldenReplayResult {
  const { cfg, layout } = configOf(file);
  const log = new MismatchLog("cpu", options);
  const st = file.header.static as Record<string, unknown> | undefined;
  if (st?.layout_rows !== undefined) {
    log.same("static.layout_rows", rwareLayoutRows(layout), st.layout_rows);
  }
  if (st?.goals_xy !== undefined) {
    log.same("static.goals_xy", layout.goals.map((g) => [g.x, g.y]), st.goals_xy);
  }
  if (st?.shelf_home_xy !== undefined) {
    log.same("static.shelf_home_xy", layout.shelfHome.map((h) => [h.x, h.y]), st.shelf_home_xy);
  }
  let deliveries = 0, ties = 0, ends = 0;
  for (const [line, n] of numberedLines(file as GoldenFile<RwareGoldenState>)) {
    log.at(n, whereOf(line));
    const before = rwareStateFromGolden(layout, line.state);
    log.same("state", rwareStateToGolden(layout, before), sortedGolden(line.state));
    if (line.kind === "reset") {
      log.close("obs", rwareObsReference(cfg, layout, before), line.obs);
      continue;
    }
    const replacements = refills(file, line, n);
    const attempt = (tieBreak: "lowest" | "highest") => {
      const trial = new MismatchLog("cpu", { atol: log.atol });
      trial.at(n, whereOf(line));
      const res = rwareStepReference(cfg, layout, before, line.actions, { replacements, tieBreak });
      compareStep(trial, layout, res, line);
      return { res, mismatches: trial.mismatches };
    };
    let run = attempt("lowest");
    if (line.conflict_tie === true) {
      ties++;
      // R1: either competitor may win a tie; accept the other winner too.
      if (run.mismatches.length > 0) {
        const other = attempt("highest");
        if (other.mismatches.length === 0) run = other;
      }
    }
    log.mismatches.push(...run.mismatches);
    deliveries += run.res.replacements.length;
    if (run.res.terminated || run.res.truncated) ends++;
  }
  return {
    mismatches: log.mismatches,
    stats: { deliveries, "tie steps": ties, "episode ends": ends },
  };
}

/** What {@linkcode replayRwareGoldenGpu} returns: the result, and the batch it ran. */
export interface RwareGpuReplay extends GoldenReplayResult {
  readonly cfg: RwareConfig;
  readonly layout: RwareLayout;
  /** The env seed (used by auto-resets). */
  readonly seed: number;
  /** The recorded states, one env each. */
  readonly states: readonly RwareState[];
  /** Agent-major actions `[numAgents, numEnvs]`. */
  readonly actions: Uint32Array;
  /** The injected refills, per env. */
  readonly refills: readonly number[][];
  /** What the GPU env held after the step (`extra.injected`: the refill buffer, cleared). */
  readonly read: Awaited<ReturnType<typeof stepRecordedStates<RwareState>>>;
}

/**
 * Replays every step line of an RWARE golden file on the GPU env, all in one dispatch, with the
 * recorded refills injected.
 *
 * @param engine Engine to build the env on.
 * @param file A parsed golden file of family "rware" with at least one step line.
 * @param options Float tolerance.
 * @returns The mismatches, the stats ("episode ends") and the batch.
 */
export async function replayRwareGoldenGpu(
  engine: Engine,
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): Promise<RwareGpuReplay> {
  const { cfg, layout } = configOf(file);
  const lines = numberedSteps(file as GoldenFile<RwareGoldenState>);
  const n = lines.length, A = cfg.numAgents, seed = file.header.seed >>> 0;
  const states = lines.map(([l]) => rwareStateFromGolden(layout, l.state));
  const actions = agentMajorActions(lines.map(([l]) => l.actions), A);
  const injected = lines.map(([l, k]) => refills(file, l, k));
  const env = await createRwareEnv(engine, rwareSpec(cfg), { numEnvs: n, seed });
  const read = await stepRecordedStates(engine, env, {
    states,
    actions,
    encode(enc) {
      env.writeInjected(injected);
      env.encodeStep(enc);
    },
    extra: { injected: env.injected },
  });
  const log = new MismatchLog("gpu", options);
  const dim = read.obs.length / (A * n);
  let ends = 0;
  lines.forEach(([l, lineNumber], e) => {
    const where = whereOf(l);
    // Flagged tie steps are compared with the reference's rule (lowest id wins) when the file
    // took the other winner.
    const check = (target: MismatchLog, want: GoldenStep<RwareGoldenState>) => {
      target.at(lineNumber, where);
      const terminated = read.terminated[e] === 1, truncated = read.truncated[e] === 1;
      const rows = { numEnvs: n, numAgents: A };
      target.close("rewards", agentRows(read.reward, e, { ...rows, dim: 1 }).flat(), want.rewards);
      target.same("terminated", want.rewards.map(() => terminated), want.terminated);
      target.same("truncated", want.rewards.map(() => truncated), want.truncated);
      const ended = terminated || truncated;
      target.close(
        "obs",
        agentRows(ended ? read.terminalObs : read.obs, e, { ...rows, dim }),
        want.obs,
      );
      if (ended) return;
      target.same(
        "state_after",
        rwareStateToGolden(layout, read.states[e]),
        sortedGolden(want.state_after),
      );
      target.same("episodeStep", read.episodeStep[e], want.state_after.steps);
    };
    const trial = new MismatchLog("gpu", { atol: log.atol });
    check(trial, l);
    if (trial.mismatches.length > 0 && l.conflict_tie === true) {
      const res = rwareStepReference(cfg, layout, states[e], l.actions, {
        replacements: injected[e],
      });
      const ours = {
        ...l,
        rewards: res.rewards,
        state_after: rwareStateToGolden(layout, res.state),
        obs: res.obs,
      };
      const fallback = new MismatchLog("gpu", { atol: log.atol });
      check(fallback, ours);
      if (fallback.mismatches.length === 0) trial.mismatches.length = 0;
    }
    log.mismatches.push(...trial.mismatches);
    if (read.terminated[e] || read.truncated[e]) ends++;
  });
  return {
    mismatches: log.mismatches,
    stats: { "episode ends": ends },
    cfg,
    layout,
    seed,
    states,
    actions,
    refills: injected,
    read,
  };
}

/** The RWARE entry of the replay table (`envs/parity.ts`). */
export const RWARE_GOLDEN_REPLAY: GoldenReplay = Object.freeze({
  envFamily: "rware",
  replayCpu: replayRwareGoldenCpu,
  replayGpu: replayRwareGoldenGpu,
});
