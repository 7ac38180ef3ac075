// Activations fused into layers, chosen at compile time by the ACT override
// (0 identity, 1 ReLU, 2 tanh; engine/nn/linear.ts ACTIVATION_CODE). Functions only.
override ACT: u32 = 0u;

fn activate(z: f32) -> f32 {
  if (ACT == 1u) { return max(z, 0.0); }
  if (ACT == 2u) { return tanh(z); }
  return z;
}

// d act / dz expressed through the activation's output.
fn activateGrad(out: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, out > 0.0); }
  if (ACT == 2u) { return 1.0 - out * out; }
  return 1.0;
}
