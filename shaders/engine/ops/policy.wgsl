// Categorical distributions and classification losses on logits, batched over agents.
// Owners: engine/ops/policy.ts (softmax … entropy), engine/ops/cross_entropy.ts (crossEntropy … bce).
// Shapes: logits, dLogits, probs, dProbs, logProbs, dLogProbs, targets [numAgents, batch, numActions];
//   actions (u32), out, dOut [numAgents, batch]; for bce out, dOut are [numAgents, batch, numActions].
// Rows are max-subtracted: log p_j = (z_j − m) − log Σ_k exp(z_k − m), m = max_k z_k (Σ ≥ 1, so the
// log is safe and log p is finite), by categoricalShift / categoricalLogProbAt / categoricalEntropy
// of common/_categorical.wgsl. Backward kernels take g = coef·dOut (params.upstream = 1) or
// g = coef (upstream = 0: the gradient of coef·Σ out, i.e. a mean when coef = scale / count), and
// write dLogits (= or += by params.accumulate).
// softmaxForward / logSoftmaxForward: one thread per row.   writes probs / logProbs
// softmaxBackward:    one thread per row. dz_j = p_j (g_j − Σ_k p_k g_k).        writes dLogits
// logSoftmaxBackward: one thread per row. dz_j = g_j − p_j Σ_k g_k.              writes dLogits
// logProbForward:     one thread per row. out = log p[action].                   writes out
// logProbBackward:    one thread per row. dz_j = g (1[j = action] − p_j).        writes dLogits
// entropyForward:     one thread per row. out = H = −Σ p log p.                  writes out
// entropyBackward:    one thread per row. dz_j = −g p_j (log p_j + H).           writes dLogits
// crossEntropyForward:  one thread per row. out = −log p[action] (integer labels).   writes out
// crossEntropyBackward: one thread per row. dz_j = g (p_j − 1[j = action]).          writes dLogits
// softCrossEntropyForward:  one thread per row. out = −Σ t_j log p_j.                writes out
// softCrossEntropyBackward: one thread per row. dz_j = g (p_j Σ_k t_k − t_j).        writes dLogits
// bceForward:  one thread per element. out = max(x, 0) − x·y + log(1 + e^{−|x|}), y = targets.  writes out
// bceBackward: one thread per element. dz = g (σ(x) − y).                             writes dLogits
struct Params { numAgents: u32, batch: u32, numActions: u32, upstream: u32, coef: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> actions: array<u32>;
@group(0) @binding(3) var<storage, read> targets: array<f32>;
@group(0) @binding(4) var<storage, read_write> probs: array<f32>;
@group(0) @binding(5) var<storage, read_write> logProbs: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read> dProbs: array<f32>;
@group(0) @binding(8) var<storage, read> dLogProbs: array<f32>;
@group(0) @binding(9) var<storage, read> dOut: array<f32>;
@group(0) @binding(10) var<storage, read_write> dLogits: array<f32>;

fn rowCount() -> u32 {
  return params.numAgents * params.batch;
}

// The logits of common/_categorical.wgsl (row t starts at t·numActions).
fn categoricalLogit(i: u32) -> f32 {
  return logits[i];
}

// The chosen action / label of row t, clamped into range so no read is out of bounds.
fn chosen(t: u32) -> u32 {
  return min(actions[t], params.numActions - 1u);
}

// Upstream gradient of scalar output i: coef·dOut[i], or coef for a (scaled) mean.
fn upstreamGrad(i: u32) -> f32 {
  return params.coef * select(1.0, dOut[select(0u, i, params.upstream != 0u)], params.upstream != 0u);
}

fn writeGrad(i: u32, v: f32) {
  dLogits[i] = select(v, dLogits[i] + v, params.accumulate != 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmaxForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  for (var j = 0u; j < params.numActions; j++) { probs[base + j] = exp(categoricalLogProbAt(base, j, shift)); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmaxBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  var pg = 0.0;
  for (var j = 0u; j < params.numActions; j++) { pg += exp(categoricalLogProbAt(base, j, shift)) * dProbs[base + j]; }
  for (var j = 0u; j < params.numActions; j++) {
    let p = exp(categoricalLogProbAt(base, j, shift));
    writeGrad(base + j, params.coef * p * (dProbs[base + j] - pg));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn logSoftmaxForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  for (var j = 0u; j < params.numActions; j++) { logProbs[base + j] = categoricalLogProbAt(base, j, shift); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn logSoftmaxBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  var gSum = 0.0;
  for (var j = 0u; j < params.numActions; j++) { gSum += dLogProbs[base + j]; }
  for (var j = 0u; j < params.numActions; j++) {
    let p = exp(categoricalLogProbAt(base, j, shift));
    writeGrad(base + j, params.coef * (dLogProbs[base + j] - p * gSum));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn logProbForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  out[t] = categoricalLogProbAt(base, chosen(t), categoricalShift(base, params.numActions));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn logProbBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  let g = upstreamGrad(t);
  let at = chosen(t);
  for (var j = 0u; j < params.numActions; j++) {
    let p = exp(categoricalLogProbAt(base, j, shift));
    writeGrad(base + j, g * (select(0.0, 1.0, j == at) - p));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn entropyForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  out[t] = categoricalEntropy(base, params.numActions, categoricalShift(base, params.numActions));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn entropyBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  let h = categoricalEntropy(base, params.numActions, shift);
  let g = upstreamGrad(t);
  for (var j = 0u; j < params.numActions; j++) {
    let lp = categoricalLogProbAt(base, j, shift);
    writeGrad(base + j, -g * exp(lp) * (lp + h));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn crossEntropyForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  out[t] = -categoricalLogProbAt(base, chosen(t), categoricalShift(base, params.numActions));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn crossEntropyBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  let g = upstreamGrad(t);
  let at = chosen(t);
  for (var j = 0u; j < params.numActions; j++) {
    let p = exp(categoricalLogProbAt(base, j, shift));
    writeGrad(base + j, g * (p - select(0.0, 1.0, j == at)));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softCrossEntropyForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  var acc = 0.0;
  for (var j = 0u; j < params.numActions; j++) { acc -= targets[base + j] * categoricalLogProbAt(base, j, shift); }
  out[t] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softCrossEntropyBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount()) { return; }
  let base = t * params.numActions;
  let shift = categoricalShift(base, params.numActions);
  let g = upstreamGrad(t);
  var tSum = 0.0;
  for (var j = 0u; j < params.numActions; j++) { tSum += targets[base + j]; }
  for (var j = 0u; j < params.numActions; j++) {
    let p = exp(categoricalLogProbAt(base, j, shift));
    writeGrad(base + j, g * (p * tSum - targets[base + j]));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn bceForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount() * params.numActions) { return; }
  let x = logits[t];
  out[t] = max(x, 0.0) - x * targets[t] + log(1.0 + exp(-abs(x)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn bceBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= rowCount() * params.numActions) { return; }
  let x = logits[t];
  let e = exp(-abs(x));                              // in (0, 1]: no overflow for any x
  let sigmoid = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
  writeGrad(t, upstreamGrad(t) * (sigmoid - targets[t]));
}
