// Thread indexing shared by all one-thread-per-item kernels. Owner: engine/kernel.ts.
// The engine sets WORKGROUP_SIZE and splits large dispatches into (x, y) workgroup grids;
// flatIndex() turns (global id, workgroup counts) back into one linear item index.
override WORKGROUP_SIZE: u32 = 64;

fn flatIndex(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
}
