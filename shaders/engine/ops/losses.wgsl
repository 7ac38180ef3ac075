// Regression losses and TD targets, batched over agents. Owner: engine/ops/losses.ts.
// Per-agent means of `terms` are taken afterwards by agent_mean.wgsl.
// Shapes: q, qNext, qNextOnline, dQ [numAgents, batch, numActions]; action (u32), reward, done,
//   y, targets, weights, value, dValue, absDelta, terms [numAgents, batch].
// ℓ(δ) by the LOSS override: 0 squared error δ² (ℓ' = 2δ); 1 Huber(1) ½δ² if |δ| ≤ 1 else |δ| − ½
//   (ℓ' = clamp(δ, −1, 1)). Weights w are read only when params.weighted != 0 (else w = 1).
// tdTarget:       one thread per (a, b). y = r + γ(1 − done)·max_j qNext.             writes y
// tdTargetDouble: one thread per (a, b). j* = first argmax_j qNextOnline;
//                 y = r + γ(1 − done)·qNext[j*].                                    writes y
// qLossForward:   one thread per (a, b). δ = q[a, b, action] − targets.    writes absDelta = |δ|, terms = w·ℓ(δ)
// qLossBackward:  one thread per (a, b). dQ[a, b, :] = coef·w·ℓ'(δ) at the action, 0 elsewhere.  writes dQ (= or +=)
// valueForward:   one thread per (a, b). δ = value − targets.                      writes terms = w·δ²
// valueBackward:  one thread per (a, b). dValue = coef·w·2δ.                        writes dValue (= or +=)
override LOSS: u32 = 0u;

struct Params { numAgents: u32, batch: u32, numActions: u32, gamma: f32, weighted: u32, coef: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qNext: array<f32>;
@group(0) @binding(2) var<storage, read> qNextOnline: array<f32>;
@group(0) @binding(3) var<storage, read> reward: array<f32>;
@group(0) @binding(4) var<storage, read> done: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read> q: array<f32>;
@group(0) @binding(7) var<storage, read> action: array<u32>;
@group(0) @binding(8) var<storage, read> targets: array<f32>;
@group(0) @binding(9) var<storage, read> weights: array<f32>;
@group(0) @binding(10) var<storage, read_write> absDelta: array<f32>;
@group(0) @binding(11) var<storage, read_write> terms: array<f32>;
@group(0) @binding(12) var<storage, read_write> dQ: array<f32>;
@group(0) @binding(13) var<storage, read> value: array<f32>;
@group(0) @binding(14) var<storage, read_write> dValue: array<f32>;

fn regressionLoss(d: f32) -> f32 {
  if (LOSS == 1u) {
    let a = abs(d);
    return select(a - 0.5, 0.5 * d * d, a <= 1.0);
  }
  return d * d;
}

fn regressionLossGrad(d: f32) -> f32 {
  if (LOSS == 1u) { return clamp(d, -1.0, 1.0); }
  return 2.0 * d;
}

fn sampleWeight(t: u32) -> f32 {
  return select(1.0, weights[select(0u, t, params.weighted != 0u)], params.weighted != 0u);
}

// The chosen action of sample t, clamped into range so no read is out of bounds.
fn chosen(t: u32) -> u32 {
  return min(action[t], params.numActions - 1u);
}

// δ = q[t, action[t]] − targets[t].
fn qDelta(t: u32) -> f32 {
  return q[t * params.numActions + chosen(t)] - targets[t];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tdTarget(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch) { return; }
  let base = t * params.numActions;
  var best = qNext[base];
  for (var j = 1u; j < params.numActions; j++) { best = max(best, qNext[base + j]); }
  y[t] = reward[t] + params.gamma * (1.0 - done[t]) * best;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tdTargetDouble(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch) { return; }
  let base = t * params.numActions;
  var bestJ = 0u;
  var best = qNextOnline[base];
  for (var j = 1u; j < params.numActions; j++) {
    let v = qNextOnline[base + j];
    bestJ = select(bestJ, j, v > best);
    best = max(best, v);
  }
  y[t] = reward[t] + params.gamma * (1.0 - done[t]) * qNext[base + bestJ];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn qLossForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch) { return; }
  let d = qDelta(t);
  absDelta[t] = abs(d);
  terms[t] = sampleWeight(t) * regressionLoss(d);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn qLossBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch) { return; }
  let g = params.coef * sampleWeight(t) * regressionLossGrad(qDelta(t));
  let base = t * params.numActions;
  let at = chosen(t);
  for (var j = 0u; j < params.numActions; j++) {
    let v = select(0.0, g, j == at);
    dQ[base + j] = select(v, dQ[base + j] + v, params.accumulate != 0u);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn valueForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch) { return; }
  let d = value[t] - targets[t];
  terms[t] = sampleWeight(t) * d * d;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn valueBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.batch) { return; }
  let g = params.coef * sampleWeight(t) * 2.0 * (value[t] - targets[t]);
  dValue[t] = select(g, dValue[t] + g, params.accumulate != 0u);
}
