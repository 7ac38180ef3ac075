/**
 * Replay of DIALS warehouse golden files (`family: "dials-warehouse"`, the global simulator of
 * `INFLUENCEorg/DIALS`) on the CPU reference and on the GPU global simulator. The config comes
 * from the header (`warehouseConfigFromGolden`); every step replays from its recorded state and
 * learner actions with the step's recorded draws instead of ours: the spawn outcomes
 * (`spawn_hits`: the shelf cells whose uniform draw was below the probability) and the scripted
 * robots' random actions (`heuristic_random_draws`). Compares the robots' actions, which robots
 * acted randomly, influence sources, rewards, removed items, the state after (items as
 * [row, col, age] in list order), flags, observations and `dset` (the observations of the state
 * before, which the previous line recorded).
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { GoldenFile, GoldenReset, GoldenStep } from "../golden.ts";
import {
  agentMajorActions,
  agentRows,
  type GoldenReplay,
  type GoldenReplayOptions,
  type GoldenReplayResult,
  MismatchLog,
  numberedLines,
  numberedSteps,
  requiredField,
  stepRecordedStates,
  whereOf,
} from "../golden_replay.ts";
import { createWarehouseEnv, type WarehouseInjectedDraws } from "./env.ts";
import {
  warehouseConfigFromGolden,
  type WarehouseGoldenState,
  warehouseStateFromGolden,
} from "./golden.ts";
import {
  WAREHOUSE_OBS,
  WAREHOUSE_SOURCES,
  type WarehouseConfig,
  type WarehouseItem,
  warehouseLearningRobot,
  warehouseShelfCount,
  warehouseSpec,
  type WarehouseState,
} from "./layout.ts";
import {
  type WarehouseDraws,
  warehouseObsReference,
  warehouseScanCells,
  warehouseStepReference,
} from "./reference.ts";

const itemRows = (items: readonly WarehouseItem[]) => items.map((it) => [it.row, it.col, it.age]);
const goldenItemRows = (items: readonly number[][]) => items.map(([, r, c, a]) => [r, c, a]);
const oneHot = (classes: readonly number[]) =>
  classes.flatMap((k) => [0, 1, 2, 3].map((b) => (b === k ? 1 : 0)));

/** The step's recorded draws: spawn hits by scan index and random actions by robot id. */
function recordedDraws(
  cfg: WarehouseConfig,
  file: GoldenFile,
  line: GoldenStep,
  n: number,
): { spawn: boolean[]; random: Map<number, number> } {
  const scan = new Map(warehouseScanCells(cfg).map((c, i) => [`${c.row},${c.col}`, i]));
  const spawn = new Array<boolean>(scan.size).fill(false);
  for (
    const [row, col] of requiredField<number[][]>(line, {
      field: "spawn_hits",
      file,
      lineNumber: n,
    })
  ) {
    const i = scan.get(`${row},${col}`);
    if (i === undefined) {
      throw new RangeError(
        `Cannot replay golden file "${file.path}": line ${n} has a spawn hit at (${row}, ${col}), not a shelf cell`,
      );
    }
    spawn[i] = true;
  }
  const draws = requiredField<number[][]>(line, {
    field: "heuristic_random_draws",
    file,
    lineNumber: n,
  });
  return { spawn, random: new Map(draws.map(([id, v]) => [id, v])) };
}

/**
 * The observations of each step's state as the file recorded them (the previous line's `obs`
 * when it is the same episode's reset or previous step), by step line; undefined otherwise.
 */
function previousObs(file: GoldenFile): Map<GoldenStep, unknown> {
  const out = new Map<GoldenStep, unknown>();
  let prev: GoldenReset | GoldenStep | null = null;
  for (const l of file.lines) {
    if (l.kind === "step" && prev && prev.episode === l.episode) {
      const follows = prev.kind === "reset" ? l.t === 0 : prev.t === l.t - 1;
      if (follows) out.set(l, prev.obs);
    }
    prev = l;
  }
  return out;
}

/**
 * Replays every line of a DIALS warehouse golden file on the CPU reference.
 *
 * @param file A parsed golden file of family "dials-warehouse".
 * @param options Float tolerance.
 * @returns The mismatches and stats: "collected" (rewarded learner steps), "removed items",
 *   "random moves", "spawned items", "episode ends".
 */
export function replayWarehouseGoldenCpu(
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): GoldenReplayResult {
  const cfg = warehouseConfigFromGolden(file.header);
  const log = new MismatchLog("cpu", options);
  const k = cfg.robotsPerSide, A = cfg.learningPerSide ** 2;
  const learners = new Set(Array.from({ length: A }, (_, a) => warehouseLearningRobot(cfg, a)));
  const prevObs = previousObs(file);
  const stats = {
    collected: 0,
    "removed items": 0,
    "random moves": 0,
    "spawned items": 0,
    "episode ends": 0,
  };
  for (const [line, n] of numberedLines(file as GoldenFile<WarehouseGoldenState>)) {
    log.at(n, whereOf(line));
    const before = warehouseStateFromGolden(cfg, line.state, { episode: line.episode, counter: 0 });
    if (line.kind === "reset") {
      log.same("state.episode_step", before.step, 0);
      const centres = before.robots.map((_, id) => [
        4 * Math.floor(id / k) + 2,
        4 * (id % k) + 2,
      ]);
      log.same("state.robots", line.state.robots, centres);
      const hits = line.spawn_hits as number[][] | undefined;
      if (hits) log.same("state.items", itemRows(before.items), hits.map(([r, c]) => [r, c, 0]));
      log.same("obs", warehouseObsReference(cfg, before), line.obs);
      continue;
    }
    const { spawn, random } = recordedDraws(cfg, file, line, n);
    const draws: WarehouseDraws = { spawn: (i) => spawn[i], random: (id) => random.get(id) ?? 0 };
    const res = warehouseStepReference(cfg, before, line.actions, { seed: 0, env: 0 }, { draws });
    if (line.robot_actions !== undefined) {
      log.same("robot_actions", res.robotActions, line.robot_actions);
    }
    // W3: the original also draws for the learning robots and discards their actions.
    const drew = [...random.keys()].filter((id) => !learners.has(id));
    log.same("heuristic_random_draws (scripted robots that drew)", res.randomRobots, drew);
    if (line.infs !== undefined) log.same("infs", res.influence.map(oneHot), line.infs);
    log.close("rewards", res.rewards, line.rewards);
    if (line.removed_items !== undefined) {
      log.same(
        "removed_items",
        itemRows(res.removed),
        goldenItemRows(line.removed_items as number[][]),
      );
    }
    const after = line.state_after;
    const spawned = res.final.items.filter((it) => it.age === 0).length;
    log.same("state_after.episode_step", res.final.step, after.episode_step);
    log.same("state_after.robots", res.final.robots.map((p) => [p.row, p.col]), after.robots);
    log.same("state_after.items", itemRows(res.final.items), goldenItemRows(after.items));
    log.same("state_after.next_item_id", line.state.next_item_id + spawned, after.next_item_id);
    if (line.done !== undefined) log.same("done", line.rewards.map(() => res.truncated), line.done);
    log.same("terminated", line.rewards.map(() => false), line.terminated);
    log.same("truncated", line.rewards.map(() => res.truncated), line.truncated);
    log.same("obs", res.obs, line.obs);
    const dset = prevObs.get(line);
    if (dset !== undefined) log.same("dset", res.dset, dset);
    stats.collected += res.rewards.filter((r) => r > 0).length;
    stats["removed items"] += res.removed.length;
    stats["random moves"] += res.randomRobots.length;
    stats["spawned items"] += spawned;
    if (res.truncated) stats["episode ends"]++;
  }
  return { mismatches: log.mismatches, stats };
}

/** What {@linkcode replayWarehouseGoldenGpu} returns: the result, and the batch it ran. */
export interface WarehouseGpuReplay extends GoldenReplayResult {
  readonly cfg: WarehouseConfig;
  /** The env seed (used by auto-resets). */
  readonly seed: number;
  /** The recorded states, one env each (counter = env index). */
  readonly states: readonly WarehouseState[];
  /** Agent-major actions `[numAgents, numEnvs]`. */
  readonly actions: Uint32Array;
  /** The injected draws, per env. */
  readonly draws: readonly WarehouseInjectedDraws[];
  /** What the GPU env held after the step (`extra`: `dset`, `influence`). */
  readonly read: Awaited<ReturnType<typeof stepRecordedStates<WarehouseState>>>;
}

/**
 * Replays every step line of a DIALS warehouse golden file on the GPU global simulator, all in
 * one dispatch, with the recorded draws injected.
 *
 * @param engine Engine to build the env on.
 * @param file A parsed golden file of family "dials-warehouse" with at least one step line.
 * @param options Float tolerance.
 * @returns The mismatches, the stats ("episode ends") and the batch.
 */
export async function replayWarehouseGoldenGpu(
  engine: Engine,
  file: GoldenFile,
  options: GoldenReplayOptions = {},
): Promise<WarehouseGpuReplay> {
  const cfg = warehouseConfigFromGolden(file.header);
  const lines = numberedSteps(file as GoldenFile<WarehouseGoldenState>);
  const n = lines.length, A = cfg.learningPerSide ** 2, robots = cfg.robotsPerSide ** 2;
  const seed = file.header.seed >>> 0;
  const states = lines.map(([l], e) =>
    warehouseStateFromGolden(cfg, l.state, { episode: l.episode, counter: e })
  );
  const actions = agentMajorActions(lines.map(([l]) => l.actions), A);
  const draws = lines.map(([l, k]): WarehouseInjectedDraws => {
    const { spawn, random } = recordedDraws(cfg, file, l, k);
    return { spawn, random: Array.from({ length: robots }, (_, id) => random.get(id) ?? 0) };
  });
  const env = await createWarehouseEnv(engine, warehouseSpec(cfg), { numEnvs: n, seed });
  const read = await stepRecordedStates(engine, env, {
    states,
    actions,
    encode(enc) {
      env.writeInjected(draws);
      env.encodeStepInjected(enc);
    },
    extra: { dset: env.buffers.dset, influence: env.buffers.influence },
  });
  const log = new MismatchLog("gpu", options);
  const prevObs = previousObs(file);
  const rows = { numEnvs: n, numAgents: A };
  let ends = 0;
  lines.forEach(([l, lineNumber], e) => {
    log.at(lineNumber, whereOf(l));
    const terminated = read.terminated[e] === 1, truncated = read.truncated[e] === 1;
    log.close("rewards", agentRows(read.reward, e, { ...rows, dim: 1 }).flat(), l.rewards);
    log.same("terminated", l.rewards.map(() => terminated), l.terminated);
    log.same("truncated", l.rewards.map(() => truncated), l.truncated);
    const influence = agentRows(read.extra.influence, e, { ...rows, dim: WAREHOUSE_SOURCES });
    if (l.infs !== undefined) log.same("infs", influence.map(oneHot), l.infs);
    const dset = prevObs.get(l);
    if (dset !== undefined) {
      log.same("dset", agentRows(read.extra.dset, e, { ...rows, dim: WAREHOUSE_OBS }), dset);
    }
    const ended = terminated || truncated;
    const obs = agentRows(ended ? read.terminalObs : read.obs, e, { ...rows, dim: WAREHOUSE_OBS });
    log.same("obs", obs, l.obs);
    if (ended) {
      ends++;
      return;
    }
    const s = read.states[e], after = l.state_after;
    log.same("state_after.episode_step", s.step, after.episode_step);
    log.same("state_after.robots", s.robots.map((p) => [p.row, p.col]), after.robots);
    log.same("state_after.items", itemRows(s.items), goldenItemRows(after.items));
    log.same("episodeStep", read.episodeStep[e], after.episode_step);
  });
  return {
    mismatches: log.mismatches,
    stats: { "episode ends": ends, "shelf cells": warehouseShelfCount(cfg) },
    cfg,
    seed,
    states,
    actions,
    draws,
    read,
  };
}

/** The DIALS warehouse entry of the replay table (`envs/parity.ts`). */
export const WAREHOUSE_GOLDEN_REPLAY: GoldenReplay = Object.freeze({
  envFamily: "warehouse",
  replayCpu: replayWarehouseGoldenCpu,
  replayGpu: replayWarehouseGoldenGpu,
});
