// The episode contract of every env kernel (envs/env.ts), written once. Include-only: functions,
// no bindings. Owner: envs/env.ts.
// A function touches only the standard buffers it names, and the includer declares them under
// their EnvBuffers names: terminated, truncated, episodeStep (array<u32>, one word per env), obs
// and terminalObs (the same element type, rows [numAgents, numEnvs, obsDim]). A kernel binds only
// the buffers of the functions it calls, so one that writes its flags elsewhere still fits in 8
// storage buffers.
// The contract of one step of env e: terminated (ended by the rules) and truncated (ended by the
// time limit) are 0/1; episodeStep counts the steps of the episode after the step, 0 where the
// episode ended (the env was reset); the final observation of an ended episode is kept in
// terminalObs, and obs then holds the first observation of the new episode.

// Whether an episode that has taken `steps` steps has reached the time limit `maxSteps`.
fn episodeTimeUp(steps: u32, maxSteps: u32) -> bool {
  return steps >= maxSteps;
}

// The end flags of a step with a time limit, as gym's TimeLimit sets them: `rules` = ended by the
// env's rules, `timeUp` = the step limit is reached. A rules end is a termination; a time-up
// without one is a truncation when `truncates`, else a termination (envs that report time-outs as
// done). Returns (terminated, truncated).
fn episodeTimeLimitEnds(rules: bool, timeUp: bool, truncates: bool) -> vec2<bool> {
  let trunc = timeUp && !rules && truncates;
  return vec2<bool>(rules || (timeUp && !trunc), trunc);
}

// The flags of a reset of env e: no episode ended, 0 steps taken.
fn episodeBegin(e: u32) {
  terminated[e] = 0u;
  truncated[e] = 0u;
  episodeStep[e] = 0u;
}

// Writes only terminated and truncated of env e (for kernels that leave episodeStep to a later
// dispatch).
fn episodeSetEnds(e: u32, term: bool, trunc: bool) {
  terminated[e] = select(0u, 1u, term);
  truncated[e] = select(0u, 1u, trunc);
}

// The flags of a step of env e after which its episode has taken `steps` steps: terminated,
// truncated and episodeStep (0 where the episode ended). Returns whether it ended, i.e. whether
// the caller keeps the final observation (episodeKeepObs) and resets the env.
fn episodeAdvance(e: u32, steps: u32, term: bool, trunc: bool) -> bool {
  let ended = term || trunc;
  episodeSetEnds(e, term, trunc);
  episodeStep[e] = select(steps, 0u, ended);
  return ended;
}

// Keeps `count` words of obs from `start` as the final observation: terminalObs[start + i] =
// obs[start + i] (call it after obs holds the final observation and before the reset rewrites it).
fn episodeKeepObs(start: u32, count: u32) {
  for (var i = 0u; i < count; i++) {
    terminalObs[start + i] = obs[start + i];
  }
}

// episodeKeepObs of every agent's row of env e in [numAgents, numEnvs, obsDim] observations.
fn episodeKeepEnvObs(e: u32, numEnvs: u32, numAgents: u32, obsDim: u32) {
  for (var a = 0u; a < numAgents; a++) {
    episodeKeepObs((a * numEnvs + e) * obsDim, obsDim);
  }
}
