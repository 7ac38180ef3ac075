// Pixel statistics of the environment canvas, for the page's test report (snapshot()).

/** A cheap hash of the canvas pixels (tests check that frames change). */
export function canvasHash(ctx, canvas) {
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let h = 2166136261;
  for (let i = 0; i < data.length; i += 16) {
    h = Math.imul(h ^ data[i] ^ (data[i + 1] << 8), 16777619);
  }
  return h >>> 0;
}

/** Pixels that differ from the top-left one (the background): 0 for a blank canvas. */
export function inkedPixels(ctx, canvas) {
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) n++;
  }
  return n;
}
