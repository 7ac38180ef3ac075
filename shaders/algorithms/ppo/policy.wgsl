// The GS baseline's shared GRU policy acting as every agent in turn (docs/algorithms/dials.md §8.6): one
// hidden state per env lane is chained through the N agents each step, as the reference's single
// `policy.hidden_memory` is when `train_multi_agent` calls `choose_action` for agent 0, 1, …, N − 1.
// Owner: algorithms/ppo/policy.ts. N agents × E env lanes, H hidden units.
// commit [N, E, H]: the rollout's committed state (h' of each agent's last step, zeroed where the
// episode ended); row N − 1 is the chain's state after the last agent of the previous step.
// chainPrep:  one thread per (e, k < H): carry[e, k] = commit[N − 1, e, k]. Thread k = 0 also
//             writes mask[i, e] = 1 for every agent i when the step starts an episode (the env's
//             terminated or truncated flag of the last step, or the first step after
//             `started` was cleared), else 0, and sets started[e] = 1.
//                                                         writes carry, mask, started
// chainState: one thread per (i, e, k < H), after the GRU ran over the agents as a sequence
//             (h_i = GRU(x_i, h_{i−1}), h_{−1} = carry, h := 0 where mask is set): hIn[i, e, k] =
//             the state agent i's step read, 0 at an episode start, else carry (i = 0) or
//             hs[i − 1, e, k].                                              writes hIn
struct Params { numAgents: u32, numEnvs: u32, hidden: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> terminated: array<u32>;
@group(0) @binding(2) var<storage, read> truncated: array<u32>;
@group(0) @binding(3) var<storage, read> commit: array<f32>;
@group(0) @binding(4) var<storage, read_write> carry: array<f32>;
@group(0) @binding(5) var<storage, read_write> mask: array<u32>;
@group(0) @binding(6) var<storage, read_write> started: array<u32>;
@group(0) @binding(7) var<storage, read> carryIn: array<f32>;
@group(0) @binding(8) var<storage, read> hs: array<f32>;
@group(0) @binding(9) var<storage, read> maskIn: array<u32>;
@group(0) @binding(10) var<storage, read_write> hIn: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn chainPrep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let E = params.numEnvs;
  let H = params.hidden;
  if (t >= E * H) { return; }
  carry[t] = commit[(params.numAgents - 1u) * E * H + t];
  let e = t / H;
  if (t % H != 0u) { return; }
  let start = terminated[e] != 0u || truncated[e] != 0u || started[e] == 0u;
  for (var i = 0u; i < params.numAgents; i++) { mask[i * E + e] = select(0u, 1u, start); }
  started[e] = 1u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn chainState(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let E = params.numEnvs;
  let H = params.hidden;
  if (t >= params.numAgents * E * H) { return; }
  let i = t / (E * H);
  let ek = t % (E * H);
  let e = ek / H;
  let first = i == 0u;
  let prev = select(hs[select(t - E * H, t, first)], carryIn[ek], first);
  hIn[t] = select(prev, 0.0, maskIn[i * E + e] != 0u);
}
