/** The ratios image and video models commonly take instead of a size. */
export const COMMON_RATIOS = [
  '21:9',
  '16:9',
  '3:2',
  '4:3',
  '5:4',
  '1:1',
  '4:5',
  '3:4',
  '2:3',
  '9:16',
  '9:21',
] as const;

/** Of `ratios`, the one closest to width:height (compared on a log scale, so 2:1 and 1:2 are as far from 1:1). */
export const nearestAspectRatio = <R extends string>(
  width: number,
  height: number,
  ratios: readonly R[],
): R => {
  const wanted = Math.log(width / height);
  let best = ratios[0] as R;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const ratio of ratios) {
    const [w = 1, h = 1] = ratio.split(':').map(Number);
    const distance = Math.abs(Math.log(w / h) - wanted);
    if (distance < bestDistance) {
      best = ratio;
      bestDistance = distance;
    }
  }
  return best;
};
