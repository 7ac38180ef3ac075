// Exactly rounded arithmetic that gives the same bits on every adapter and in the CPU references.
// Functions only, no bindings.

// Correctly rounded f32 of n / d for 0 < n <= d < 2^30 (long division, round half to even).
fn ratioF32(n: u32, d: u32) -> f32 {
  var q = n / d;
  var r = n % d;
  var e = 0;
  for (var i = 0u; i < 64u && q < (1u << 24u); i++) {
    r = r * 2u;
    q = q * 2u;
    if (r >= d) {
      q += 1u;
      r -= d;
    }
    e -= 1;
  }
  var mant = q >> 1u;
  if ((q & 1u) == 1u && (r != 0u || (mant & 1u) == 1u)) {
    mant += 1u;
  }
  return ldexp(f32(mant), e + 1);
}
