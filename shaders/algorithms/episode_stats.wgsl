// Episode statistics kept on the GPU. Owner: algorithms/episode_stats.ts.
// track:     one thread per env e, after each env step: adds the step's rewards to the running
//            returns; where the episode ended (terminated or truncated) adds the finished return and
//            length into per-env accumulators and restarts the running ones. With episodes > 0
//            (evaluation) env e adds only its first quota(e) = episodes / numEnvs + (e <
//            episodes % numEnvs) finished episodes, so all envs together add exactly `episodes`.
//                                                                         writes running, done
// summarise: one thread per seed k and row r < numAgents + 2 (agents' returns, counts, lengths):
//            sums the accumulators of seed k's envs [k·n, (k+1)·n), n = numEnvs / seeds, in env
//            order into out[k, r] and zeroes them.                            writes done, out
// Layouts: running [numAgents + 1, numEnvs] (row numAgents = running length);
//          done    [numAgents + 2, numEnvs] (rows: finished returns per agent, then count, then length);
//          out     [seeds, numAgents + 2] (returns per agent, episodes, summed lengths).
struct Params { numAgents: u32, numEnvs: u32, episodes: u32, seeds: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> reward: array<f32>;
@group(0) @binding(2) var<storage, read> terminated: array<u32>;
@group(0) @binding(3) var<storage, read> truncated: array<u32>;
@group(0) @binding(4) var<storage, read_write> running: array<f32>;
@group(0) @binding(5) var<storage, read_write> done: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn track(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  let n = params.numEnvs;
  if (e >= n) { return; }
  let A = params.numAgents;
  let ended = terminated[e] != 0u || truncated[e] != 0u;
  let quota = params.episodes / n + select(0u, 1u, e < params.episodes % n);
  let open = params.episodes == 0u || done[A * n + e] < f32(quota);
  let counted = ended && open;
  let len = running[A * n + e] + 1.0;
  for (var a = 0u; a < A; a++) {
    let ret = running[a * n + e] + reward[a * n + e];
    done[a * n + e] += select(0.0, ret, counted);
    running[a * n + e] = select(ret, 0.0, ended);
  }
  done[A * n + e] += select(0.0, 1.0, counted);
  done[(A + 1u) * n + e] += select(0.0, len, counted);
  running[A * n + e] = select(len, 0.0, ended);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn summarise(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  let A = params.numAgents;
  let n = params.numEnvs;
  if (i >= params.seeds * (A + 2u)) { return; }
  let k = i / (A + 2u);
  let r = i % (A + 2u);
  let per = n / params.seeds;
  var acc = 0.0;
  for (var e = k * per; e < (k + 1u) * per; e++) {
    acc += done[r * n + e];
    done[r * n + e] = 0.0;
  }
  out[i] = acc;
}
