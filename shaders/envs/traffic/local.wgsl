// Traffic grid local simulators (spec docs/envs/traffic.md B8, with the GS's entry rule): one region per
// (agent, env) = that intersection's 4 incoming lane segments (SEG_CELLS cells each) and its signal,
// regions agent-major (region r = agent · numEnvs + env). Owner: envs/traffic/local.ts.
// Includes common/_index.wgsl, common/_rng.wgsl, envs/traffic/_lane.wgsl,
// envs/common/_episode.wgsl (flags, terminal obs).
// flags: one thread per env, encoded before step: the env's flags after the step from agent 0's
//        region before it (done = step count + 1 >= maxSteps, the test step resets a region on).
//        Writes terminated, truncated, episodeStep.
// step:  one thread per region: signal ← action, motion of the 4 lanes (the same slowdown draws as
//        the GS's lane 4·agent + approach of env `env`), then for each approach with
//        sources[r, a] = 1 the entry rule inserts a vehicle (dropped if the entrance is occupied),
//        then obs, reward; on done copies obs to terminalObs and resets the region (clear,
//        signal, insertions from resetSources), writing the new obs. Writes cells, junctions, obs,
//        terminalObs, reward.
// reset: one thread per region: episode 0 (insertions from resetSources). Writes cells,
//        junctions, obs, reward and (threads of agent 0) terminated, truncated, episodeStep.
// sample: one thread per (region, approach): draws the next step's sources (and resetSources) from
//         predictor probabilities probs [A, n, 4]: sourcesOut = U < p with
//         U = rngUnit(rngU32(seed, samplePurpose, env, 4·agent + approach, globalStep, 0)) (draw 1
//         for resetSourcesOut), globalStep = the region's step counter before the step.

struct Params {
  numEnvs: u32,
  numAgents: u32,
  maxSteps: u32,
  persistSignals: u32,
  pSlow: f32,
  seed: u32,
  stepPurpose: u32,
  samplePurpose: u32,
  envsPerSeed: u32,
  seedMix: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Seed batching: env e draws as env e mod envsPerSeed of a run seeded seed + e / envsPerSeed
// (then XOR seedMix: DIALS keys its local simulators apart from the GS).
fn envSeed(e: u32) -> u32 { return seedOfEnv(params.seed, e, params.envsPerSeed) ^ params.seedMix; }
fn envOfSeed(e: u32) -> u32 { return e % params.envsPerSeed; }
@group(0) @binding(1) var<storage, read_write> cells: array<u32>;
@group(0) @binding(2) var<storage, read_write> junctions: array<u32>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
@group(0) @binding(4) var<storage, read> sources: array<u32>;
@group(0) @binding(5) var<storage, read> resetSources: array<u32>;
@group(0) @binding(6) var<storage, read_write> obs: array<f32>;
@group(0) @binding(7) var<storage, read_write> terminalObs: array<f32>;
@group(0) @binding(8) var<storage, read_write> reward: array<f32>;
@group(0) @binding(9) var<storage, read_write> terminated: array<u32>;
@group(0) @binding(10) var<storage, read_write> truncated: array<u32>;
@group(0) @binding(11) var<storage, read_write> episodeStep: array<u32>;
@group(0) @binding(12) var<storage, read> probs: array<f32>;
@group(0) @binding(13) var<storage, read> junctionsIn: array<u32>;
@group(0) @binding(14) var<storage, read_write> sourcesOut: array<u32>;
@group(0) @binding(15) var<storage, read_write> resetSourcesOut: array<u32>;

fn observeRegion(r: u32, s: Signal) -> f32 {
  var bins = vec4u(0u);
  var count = 0u;
  var speedSum = 0u;
  for (var a = 0u; a < 4u; a++) {
    let lv = laneView((r * 4u + a) * SEG_CELLS);
    bins[a] = lv.bins;
    count += lv.count;
    speedSum += lv.speedSum;
  }
  let hot = signalOneHot(s);
  for (var i = 0u; i < OBS_DIM; i++) { obs[r * OBS_DIM + i] = obsValue(bins, hot, i); }
  return junctionReward(count, speedSum);
}

fn resetRegion(r: u32, episode: u32, globalStep: u32, s: Signal) {
  let j = r * JUNCTION_WORDS;
  let sig = signalAfterReset(s, params.persistSignals != 0u);
  for (var a = 0u; a < 4u; a++) {
    let base = (r * 4u + a) * SEG_CELLS;
    laneClear(base);
    if (resetSources[r * 4u + a] != 0u) { laneInsert(base); }
  }
  junctions[j + J_DIR] = sig.dir;
  junctions[j + J_YELLOW] = sig.yellow;
  junctions[j + J_TIMER] = sig.timer;
  junctions[j + J_T] = 0u;
  junctions[j + J_EPISODE] = episode;
  junctions[j + J_GSTEP] = globalStep;
  observeRegion(r, sig);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn flags(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) { return; }
  // Region e is agent 0's region of env e.
  let steps = junctionsIn[e * JUNCTION_WORDS + J_T] + 1u;
  episodeAdvance(e, steps, false, episodeTimeUp(steps, params.maxSteps));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  let n = params.numEnvs;
  if (r >= n * params.numAgents) { return; }
  let k = r / n;
  let e = r % n;
  let j = r * JUNCTION_WORDS;
  let s = Signal(junctions[j + J_DIR], junctions[j + J_YELLOW], junctions[j + J_TIMER]);
  let next = signalNext(s, actions[r]);
  let globalStep = junctions[j + J_GSTEP];
  for (var a = 0u; a < 4u; a++) {
    let base = (r * 4u + a) * SEG_CELLS;
    laneMotion(base, signalPasses(next, a), params.pSlow, envSeed(e), params.stepPurpose,
      envOfSeed(e), k * 4u + a, globalStep);
    if (sources[r * 4u + a] != 0u) { laneInsert(base); }
  }
  reward[r] = observeRegion(r, next);
  let steps = junctions[j + J_T] + 1u;
  junctions[j + J_DIR] = next.dir;
  junctions[j + J_YELLOW] = next.yellow;
  junctions[j + J_TIMER] = next.timer;
  junctions[j + J_T] = steps;
  junctions[j + J_GSTEP] = globalStep + 1u;
  if (episodeTimeUp(steps, params.maxSteps)) {
    episodeKeepObs(r * OBS_DIM, OBS_DIM);
    resetRegion(r, junctions[j + J_EPISODE] + 1u, globalStep + 1u, next);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reset(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  let n = params.numEnvs;
  if (r >= n * params.numAgents) { return; }
  resetRegion(r, 0u, 0u, Signal(0u, 0u, 0u));
  reward[r] = 0.0;
  if (r < n) { episodeBegin(r); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sample(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let n = params.numEnvs;
  if (t >= n * params.numAgents * 4u) { return; }
  let r = t / 4u;
  let a = t % 4u;
  let k = r / n;
  let e = r % n;
  let globalStep = junctionsIn[r * JUNCTION_WORDS + J_GSTEP];
  let p = probs[t];
  let h0 = rngU32(envSeed(e), params.samplePurpose, envOfSeed(e), k * 4u + a, globalStep, 0u);
  let h1 = rngU32(envSeed(e), params.samplePurpose, envOfSeed(e), k * 4u + a, globalStep, 1u);
  sourcesOut[t] = select(0u, 1u, rngUnit(h0) < p);
  resetSourcesOut[t] = select(0u, 1u, rngUnit(h1) < p);
}
