/**
 * Replay of LBF golden files (`family: "lbf"`, the `Foraging-*-v3` reference) on the CPU
 * reference and on the GPU env, built from the header's `config` (`lbfConfigFromGolden`): the
 * reset lines' states and observations, then every step line from its recorded state and
 * actions (LBF steps draw nothing). Compares effective actions, rewards, flags, the state after
 * (scores to the tolerance) and the observations; the GPU compares what it can see (for episodes
 * that ended, the terminal observations instead of the state, which it has already reset).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { GoldenFile } from "../golden.ts";
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
  stepRecordedStates,
  whereOf,
} from "../golden_replay.ts";
import { createLbfEnv } from "./env.ts";
import { lbfObsReference, lbfStepReference, lbfValidActionsReference } from "./reference.ts";
import {
  type LbfConfig,
  lbfConfigFromGolden,
  type LbfGoldenState,
  lbfSpec,
  type LbfState,
  lbfStateFromGolden,
} from "./state.ts";

const CONFIG_KEYS = ["field_size", "players", "max_num_food", "sight", "max_episode_steps"];

function configOf(file: GoldenFile): LbfConfig {
  requireConfigKeys(file.header, { keys: CONFIG_KEYS, family: "LBF" });
  return lbfConfigFromGolden(file.header);
}

/** Compares a state with a golden state (scores to the tolerance, the rest exactly). */
function compareState(
  log: MismatchLog,
  cfg: LbfConfig,
  got: LbfState,
  want: LbfGoldenState,
  name: string,
): void {
  log.same(`${name}.step`, got.step, want.step);
  log.same(`${name}.players`, got.players.map((p) => [p.row, p.col, p.level]), want.players);
  log.same(`${name}.food`, got.food.map((f) => [f.row, f.col, f.level]), want.food);
  log.same(`${name}.food_spawned`, got.foodSpawned, want.food_spawned);
  if (want.valid_actions !== undefined) {
    log.same(`${name}.valid_actions`, lbfValidActionsReference(cfg, got), want.valid_actions);
  }
  log.close(`${name}.scores`, got.scores, want.scores);
}

/**
 * Replays every line of an LBF golden file on the CPU reference.
 *
 * @param file A parsed golden file of family "lbf".
 * @param options Float tolerance.
 * @returns The mismatches and stats: "loads" (rewarded player-steps), "episode ends".
 */
export function replayLbfGoldenCpu(
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): GoldenReplayResult {
  const cfg = configOf(file);
  const log = new MismatchLog("cpu", options);
  let loads = 0, ends = 0;
  for (const [line, n] of numberedLines(file as GoldenFile<LbfGoldenState>)) {
    log.at(n, whereOf(line));
    const before = lbfStateFromGolden(line.state, line.episode);
    compareState(log, cfg, before, line.state, "state");
    if (line.kind === "reset") {
      log.close("obs", lbfObsReference(cfg, before), line.obs);
      continue;
    }
    const res = lbfStepReference(cfg, before, line.actions);
    if (line.effective_actions !== undefined) {
      log.same("effective_actions", res.effectiveActions, line.effective_actions);
    }
    log.close("rewards", res.rewards, line.rewards);
    log.same("terminated", line.rewards.map(() => res.terminated), line.terminated);
    log.same("truncated", line.rewards.map(() => res.truncated), line.truncated);
    if (line.state_after.game_over !== undefined) {
      log.same(
        "state_after.game_over",
        res.terminated || res.truncated,
        line.state_after.game_over,
      );
    }
    compareState(log, cfg, res.state, line.state_after, "state_after");
    log.close("obs", lbfObsReference(cfg, res.state), line.obs);
    loads += res.rewards.filter((r) => r > 0).length;
    if (res.terminated || res.truncated) ends++;
  }
  return { mismatches: log.mismatches, stats: { loads, "episode ends": ends } };
}

/** What {@linkcode replayLbfGoldenGpu} returns: the result, and the batch it ran. */
export interface LbfGpuReplay extends GoldenReplayResult {
  readonly cfg: LbfConfig;
  /** The env seed (used by auto-resets). */
  readonly seed: number;
  /** The recorded states, one env each. */
  readonly states: readonly LbfState[];
  /** Agent-major actions `[numPlayers, numEnvs]`. */
  readonly actions: Uint32Array;
  /** What the GPU env held after the step. */
  readonly read: Awaited<ReturnType<typeof stepRecordedStates<LbfState>>>;
}

/**
 * Replays every step line of an LBF golden file on the GPU env, all in one dispatch.
 *
 * @param engine Engine to build the env on.
 * @param file A parsed golden file of family "lbf" with at least one step line.
 * @param options Float tolerance.
 * @returns The mismatches, the stats ("episode ends") and the batch.
 */
export async function replayLbfGoldenGpu(
  engine: Engine,
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): Promise<LbfGpuReplay> {
  const cfg = configOf(file);
  const lines = numberedSteps(file as GoldenFile<LbfGoldenState>);
  const n = lines.length, A = cfg.numPlayers, seed = file.header.seed >>> 0;
  const states = lines.map(([l]) => lbfStateFromGolden(l.state, l.episode));
  const actions = agentMajorActions(lines.map(([l]) => l.actions), A);
  const env = await createLbfEnv(engine, lbfSpec(cfg), { numEnvs: n, seed });
  const read = await stepRecordedStates(engine, env, { states, actions });
  const log = new MismatchLog("gpu", options);
  const dim = read.obs.length / (A * n);
  let ends = 0;
  lines.forEach(([l, lineNumber], e) => {
    log.at(lineNumber, whereOf(l));
    const terminated = read.terminated[e] === 1, truncated = read.truncated[e] === 1;
    log.close(
      "rewards",
      agentRows(read.reward, e, { numEnvs: n, numAgents: A, dim: 1 }).flat(),
      l.rewards,
    );
    log.same("terminated", l.rewards.map(() => terminated), l.terminated);
    log.same("truncated", l.rewards.map(() => truncated), l.truncated);
    const ended = terminated || truncated;
    const obs = ended ? read.terminalObs : read.obs;
    log.close("obs", agentRows(obs, e, { numEnvs: n, numAgents: A, dim }), l.obs);
    if (ended) {
      ends++;
      return;
    }
    compareState(log, cfg, read.states[e], l.state_after, "state_after");
    log.same("episodeStep", read.episodeStep[e], l.state_after.step);
  });
  return {
    mismatches: log.mismatches,
    stats: { "episode ends": ends },
    cfg,
    seed,
    states,
    actions,
    read,
  };
}

/** The LBF entry of the replay table (`envs/parity.ts`). */
export const LBF_GOLDEN_REPLAY: GoldenReplay = Object.freeze({
  envFamily: "lbf",
  replayCpu: replayLbfGoldenCpu,
  replayGpu: replayLbfGoldenGpu,
});
