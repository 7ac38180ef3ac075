// ε-greedy acting, the iteration counter and learning metrics of the IDQN family.
// Owner: algorithms/idqn/act.ts.
// act:        one thread per row r = a·numEnvs + e of q [rows, numActions] (agent-major; with
//             parameter sharing the rows of all agents are one learner's batch, same order):
//             t = f32(step[0])·n env steps so far (n = envsPerSeed: one seed's envs); ε = epsilonAt(t)
//             (1 while t < randomSteps, 0 when greedy); with env e drawing as env e mod n of seed
//             s_e = seedOfEnv(seed, e, n) (seed batching; one seed: n = numEnvs, s_e = seed), explore
//             when rngUnit(rngU32(s_e, purpose, e mod n, a, step, 0)) < ε, then action =
//             rngBelow(rngU32(…, 1), numActions), else argmax_j q[r, j] (ties → lowest j).
//                                                                                  writes actions
// advance:    one thread: counter[0] += 1 (after act, so each iteration draws fresh numbers). writes counter
// accumulate: one thread per learner l after a learning step: acc[l, 0] += loss[l],
//             acc[l, 1] += (1/batch)·Σ_b absTd[l, b] (in b order), acc[l, 2] += 1.  writes acc
// summarise:  one thread per learner l (and threads numLearners + k for each seed k's ε):
//             out[l, 0] = mean loss, out[l, 1] = mean |δ| over the interval's updates (0 when none),
//             zeroes acc[l, :]; learner l < seeds (seed l's first) also writes
//             out[numLearners + l, 1] = updates; thread numLearners + k writes
//             out[numLearners + k, 0] = ε at the current step (one seed: k = 0 only).
//                                                                            writes acc, out
struct Params { numAgents: u32, numEnvs: u32, numActions: u32, seed: u32, purpose: u32, greedy: u32, schedule: u32, epsilonStart: f32, epsilonEnd: f32, epsilonSteps: f32, randomSteps: f32, numLearners: u32, batch: u32, envsPerSeed: u32, seeds: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> step: array<u32>;
@group(0) @binding(3) var<storage, read_write> actions: array<u32>;
@group(0) @binding(4) var<storage, read_write> counter: array<u32>;
@group(0) @binding(5) var<storage, read> loss: array<f32>;
@group(0) @binding(6) var<storage, read> absTd: array<f32>;
@group(0) @binding(7) var<storage, read_write> acc: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;

const SCHEDULE_LINEAR: u32 = 0u;

// ε after t env steps: linear or geometric interpolation from start to end over epsilonSteps,
// constant afterwards; 1 during the random warm-up.
fn epsilonAt(t: f32) -> f32 {
  let frac = min(t / params.epsilonSteps, 1.0);
  let lin = params.epsilonStart + frac * (params.epsilonEnd - params.epsilonStart);
  let ratio = max(params.epsilonEnd, 1e-30) / max(params.epsilonStart, 1e-30);
  let geo = params.epsilonStart * exp2(log2(ratio) * frac);
  let eps = select(geo, lin, params.schedule == SCHEDULE_LINEAR);
  return select(eps, 1.0, t < params.randomSteps);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn act(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg);
  if (r >= params.numAgents * params.numEnvs) { return; }
  let a = r / params.numEnvs;
  let e = r % params.numEnvs;
  let n = params.numActions;
  var best = 0u;
  var bestQ = q[r * n];
  for (var j = 1u; j < n; j++) {
    let v = q[r * n + j];
    if (v > bestQ) {
      bestQ = v;
      best = j;
    }
  }
  let s = step[0];
  let eps = select(epsilonAt(f32(s) * f32(params.envsPerSeed)), 0.0, params.greedy != 0u);
  let seed = seedOfEnv(params.seed, e, params.envsPerSeed);
  let le = e % params.envsPerSeed;
  let explore = rngUnit(rngU32(seed, params.purpose, le, a, s, 0u)) < eps;
  let random = rngBelow(rngU32(seed, params.purpose, le, a, s, 1u), n);
  actions[r] = select(best, random, explore);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn advance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= 1u) { return; }
  counter[0] = counter[0] + 1u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let l = flatIndex(gid, nwg);
  if (l >= params.numLearners) { return; }
  var s = 0.0;
  for (var b = 0u; b < params.batch; b++) { s += absTd[l * params.batch + b]; }
  acc[l * 3u] += loss[l];
  acc[l * 3u + 1u] += s / f32(max(params.batch, 1u));
  acc[l * 3u + 2u] += 1.0;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn summarise(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let l = flatIndex(gid, nwg);
  if (l >= params.numLearners + params.seeds) { return; }
  if (l >= params.numLearners) {
    out[l * 2u] = epsilonAt(f32(step[0]) * f32(params.envsPerSeed));
    return;
  }
  let count = acc[l * 3u + 2u];
  let inv = select(0.0, 1.0 / count, count > 0.0);
  out[l * 2u] = acc[l * 3u] * inv;
  out[l * 2u + 1u] = acc[l * 3u + 1u] * inv;
  if (l < params.seeds) { out[(params.numLearners + l) * 2u + 1u] = count; }
  acc[l * 3u] = 0.0;
  acc[l * 3u + 1u] = 0.0;
  acc[l * 3u + 2u] = 0.0;
}
