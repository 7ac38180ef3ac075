// Uniform random policy (the "random" baseline). Owner: algorithms/random_policy.ts.
// act:     one thread per (agent a, env e): actions[a, e] = rngBelow(rngU32(seed, purpose, e, a,
//          step[0], 0), numActions), step[0] being the policy's iteration counter.  writes actions
// advance: one thread: counter[0] += 1 (recorded after act, so each iteration draws fresh actions
//          without a host write between iterations of one submit).                   writes counter
struct Params { numAgents: u32, numEnvs: u32, numActions: u32, seed: u32, purpose: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> step: array<u32>;
@group(0) @binding(2) var<storage, read_write> actions: array<u32>;
@group(0) @binding(3) var<storage, read_write> counter: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn act(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= params.numAgents * params.numEnvs) { return; }
  let a = t / params.numEnvs;
  let e = t % params.numEnvs;
  let h = rngU32(params.seed, params.purpose, e, a, step[0], 0u);
  actions[t] = rngBelow(h, params.numActions);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn advance(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= 1u) { return; }
  counter[0] = counter[0] + 1u;
}
