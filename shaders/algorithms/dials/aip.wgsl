// Approximate influence predictors of DIALS (docs/algorithms/dials.md §4, §5): minibatch gathering from the GS
// datasets, and influence sampling inside the local simulators. Owner: algorithms/dials/aip.ts.
// N agents, dataset rows Q·L per agent (Q sequences of L = seqLen rows; sequence q = rows
// q·L … q·L + L − 1), inputs [N, Q·L, W] u32: D 0/1 values per row bit-packed into W = ⌈D / 32⌉
// words (value d at bit d % 32 of word d / 32, the layout of envs/bits.ts), targets [N, Q·L, S]
// u32 (S sources; or f32 0/1 in targetsF when floatTargets = 1).
// Training sequences are q < Qtr; the test set is q ≥ Qtr.
// gather:  one thread per (a, l, b) of a minibatch x [N, L, B, D] (time-major): training
//          (test = 0) minibatch stepIn[0] = epoch·batchesPerEpoch + mb of round stepIn[1] uses
//          sequence q = permute(mb·B + b), a bijection of [0, Qtr) per (agent, round, epoch)
//          (4-round Feistel network on 2k bits keyed by rngU32(seed, purpose, a, round·65536 +
//          epoch, rd, ·), cycle-walking into range); test (test = 1) q = Qtr + b. Writes
//          x = (input − 0.5)/0.5 of the unpacked input (bit 1 → 1.0, bit 0 → −1.0), labels
//          [N, L·B·S] u32 = targets and soft [N, L·B·S] f32 = targets as 0/1 floats.
//                                                                writes x, labels, soft
// rescale: one thread per element of obs [N, E, Dobs]: xAct = (obs[pick] − 0.5)/0.5 for the first
//          D entries after skipping `skip` leading ones (traffic drops its 4 light bits).
//                                                                writes xAct
// sample:  one thread per (a, e, s): mode 0 = categorical over `classes` logits (categoricalChoice
//          of common/_categorical.wgsl: Gumbel-max keyed rngU32(seed, purpose, e, a, counterIn[0],
//          s·classes + j)); mode 1 = Bernoulli(σ(logit)) keyed rngU32(seed, purpose, e, a,
//          counterIn[0], s). Writes influence [N, E, S].
//                                                                writes influence
// commit:  one thread per (a, e, k < max(H, 1)) after the local step: h = hNext zeroed where the
//          episode ended (H > 0); thread 0 advances counter[0].    writes h, counter
// keep:    one thread per agent: kept[slot·N + a] (+)= weight·lossIn[a].   writes kept
// Seeds batched (`seeds` > 1): "agents" a are parameter blocks, seed a mod seeds's agent
// a / seeds; Feistel and sampling keys use seed + (a mod seeds) and agent a / seeds, E is the envs
// per seed, and the episode flags [seeds·E] are read at seed a mod seeds's envs.
// advance: one thread: mode 0: step[0] += 1 (next minibatch); mode 1: step[0] = 0, step[1] += 1
//          (a new training round).                                 writes step
struct Params {
  numAgents: u32, numEnvs: u32, inDim: u32, obsDim: u32, skip: u32, sources: u32, classes: u32,
  seqLen: u32, batch: u32, trainSeqs: u32, seqsPerAgent: u32, batchesPerEpoch: u32, test: u32,
  hidden: u32, mode: u32, slot: u32, floatTargets: u32, seed: u32, purpose: u32,
  offset: u32, minibatch: u32, weight: f32, seeds: u32
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inputs: array<u32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> labels: array<u32>;
@group(0) @binding(5) var<storage, read_write> soft: array<f32>;
@group(0) @binding(6) var<storage, read> obs: array<f32>;
@group(0) @binding(7) var<storage, read_write> xAct: array<f32>;
@group(0) @binding(8) var<storage, read> logits: array<f32>;
@group(0) @binding(9) var<storage, read> counterIn: array<u32>;
@group(0) @binding(10) var<storage, read_write> influence: array<u32>;
@group(0) @binding(11) var<storage, read> hNext: array<f32>;
@group(0) @binding(12) var<storage, read> terminated: array<u32>;
@group(0) @binding(13) var<storage, read> truncated: array<u32>;
@group(0) @binding(14) var<storage, read_write> h: array<f32>;
@group(0) @binding(15) var<storage, read_write> counter: array<u32>;
@group(0) @binding(16) var<storage, read> lossIn: array<f32>;
@group(0) @binding(17) var<storage, read_write> kept: array<f32>;
@group(0) @binding(18) var<storage, read> stepIn: array<u32>;
@group(0) @binding(19) var<storage, read_write> step: array<u32>;
@group(0) @binding(20) var<storage, read> targetsF: array<f32>;

// A bijection of [0, n) keyed by (agent, epoch): Feistel on 2·half bits, cycle-walking.
fn permute(i0: u32, n: u32, a: u32, key: u32) -> u32 {
  var bits = 1u;
  for (var k = 0u; k < 15u; k++) {
    if ((1u << (2u * bits)) >= n) { break; }
    bits++;
  }
  let mask = (1u << bits) - 1u;
  var i = i0;
  for (var walk = 0u; walk < 1024u; walk++) {
    var left = i >> bits;
    var right = i & mask;
    for (var rd = 0u; rd < 4u; rd++) {
      let f = rngU32(params.seed + a % params.seeds, params.purpose, a / params.seeds, key, rd, right) &
        mask;
      let next = left ^ f;
      left = right;
      right = next;
    }
    i = (left << bits) | right;
    if (i < n) { break; }
  }
  return i;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let B = params.batch;
  let L = params.seqLen;
  if (t >= params.numAgents * L * B) { return; }
  let a = t / (L * B);
  let l = (t / B) % L;
  let b = t % B;
  // `offset`: the first sequence of this chunk (test) or micro-batch (training minibatch).
  var q = params.trainSeqs + params.offset + b;
  if (params.test == 0u) {
    let epoch = stepIn[0] / params.batchesPerEpoch;
    let mb = stepIn[0] % params.batchesPerEpoch;
    q = permute(mb * params.minibatch + params.offset + b, params.trainSeqs, a, stepIn[1] * 65536u + epoch);
  }
  let row = a * params.seqsPerAgent * L + q * L + l;
  let D = params.inDim;
  let W = (D + 31u) / 32u;
  for (var d = 0u; d < D; d++) {
    // (x − 0.5)/0.5 of x ∈ {0, 1}: exactly −1 or 1.
    x[t * D + d] = select(-1.0, 1.0, ((inputs[row * W + d / 32u] >> (d % 32u)) & 1u) != 0u);
  }
  let S = params.sources;
  for (var s = 0u; s < S; s++) {
    let y = select(targets[row * S + s], u32(targetsF[row * S + s] > 0.5), params.floatTargets != 0u);
    labels[t * S + s] = y;
    soft[t * S + s] = f32(y);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rescale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let D = params.inDim;
  if (t >= params.numAgents * params.numEnvs * D) { return; }
  let row = t / D;
  let d = t % D;
  xAct[t] = (obs[row * params.obsDim + params.skip + d] - 0.5) / 0.5;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sample(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let S = params.sources;
  if (t >= params.numAgents * params.numEnvs * S) { return; }
  let row = t / S;
  let s = t % S;
  let a = row / params.numEnvs;
  let e = row % params.numEnvs;
  let step = counterIn[0];
  // Block a is seed a mod seeds's agent a / seeds (one seed: agent a).
  let seed = params.seed + a % params.seeds;
  let agent = a / params.seeds;
  if (params.mode == 1u) {
    let l = logits[t];
    let p = 1.0 / (1.0 + exp(-clamp(l, -30.0, 30.0)));
    influence[t] = rngBernoulli(rngU32(seed, params.purpose, e, agent, step, s), p);
    return;
  }
  let C = params.classes;
  influence[t] = categoricalChoice(t * C, C, false, seed, params.purpose, e, agent, step, s * C);
}

// The logits of categorical.wgsl: source s of row (a, e) is logits[((a·E + e)·S + s)·C + j].
fn categoricalLogit(i: u32) -> f32 {
  return logits[i];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn commit(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let width = max(params.hidden, 1u);
  if (t >= params.numAgents * params.numEnvs * width) { return; }
  // The episode flags [seeds·E]: block a's env e is seed a mod seeds's.
  let row = t / width;
  let e = (row / params.numEnvs % params.seeds) * params.numEnvs + row % params.numEnvs;
  let done = terminated[e] != 0u || truncated[e] != 0u;
  if (params.hidden > 0u) { h[t] = select(hNext[t], 0.0, done); }
  if (t == 0u) { counter[0] = counter[0] + 1u; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn keep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flatIndex(gid, nwg);
  if (a >= params.numAgents) { return; }
  // mode 0 writes, mode 1 adds: a test pass in chunks sums the chunks' weighted means.
  let i = params.slot * params.numAgents + a;
  kept[i] = select(0.0, kept[i], params.mode == 1u) + lossIn[a] * params.weight;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn advance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= 1u) { return; }
  if (params.mode == 1u) {
    step[0] = 0u;
    step[1] = step[1] + 1u;
  } else {
    step[0] = step[0] + 1u;
  }
}
