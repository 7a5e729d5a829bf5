import { createHash } from 'node:crypto';

/**
 * The picture the local provider paints for a prompt and a seed: a gradient and a handful of shapes whose
 * kinds, colours, places and motion all come from a hash of the two, so the same pair always gives the
 * same SVG, and so the same bytes.
 */

export type Scene = { prompt: string; seed: number; width: number; height: number; caption: boolean };

type Shape = {
  kind: 'circle' | 'square' | 'triangle';
  x: number;
  y: number;
  size: number;
  hue: number;
  opacity: number;
  orbit: number;
  phase: number;
  spin: number;
};

/** mulberry32: a small PRNG, good enough for pictures and the same everywhere. */
const randomFrom = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const hash32 = (text: string): number => createHash('sha256').update(text).digest().readUInt32BE(0);

/** The seed of the n-th output of a request: different for each output, the same on every run. */
export const derivedSeed = (seed: number, index: number): number => hash32(`${seed}:${index}`);

const escapeXml = (text: string): string =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

const n = (value: number): string => value.toFixed(2);

const shapesOf = (random: () => number, count: number): Shape[] =>
  Array.from({ length: count }, () => ({
    kind: (['circle', 'square', 'triangle'] as const)[Math.floor(random() * 3)] ?? 'circle',
    x: random(),
    y: random(),
    size: 0.06 + random() * 0.22,
    hue: Math.floor(random() * 360),
    opacity: 0.45 + random() * 0.5,
    orbit: 0.02 + random() * 0.12,
    phase: random() * Math.PI * 2,
    spin: random() < 0.5 ? -1 : 1,
  }));

const drawShape = (shape: Shape, scene: Scene, time: number): string => {
  const unit = Math.min(scene.width, scene.height);
  const angle = shape.phase + shape.spin * time * Math.PI * 2;
  const cx = (shape.x + Math.cos(angle) * shape.orbit) * scene.width;
  const cy = (shape.y + Math.sin(angle) * shape.orbit) * scene.height;
  const r = shape.size * unit;
  const fill = `hsl(${(shape.hue + time * 90) % 360},75%,58%)`;
  const style = `fill="${fill}" fill-opacity="${n(shape.opacity)}"`;
  const turn = n((shape.spin * time * 360 + shape.hue) % 360);
  if (shape.kind === 'circle') return `<circle cx="${n(cx)}" cy="${n(cy)}" r="${n(r)}" ${style}/>`;
  if (shape.kind === 'square') {
    return `<rect x="${n(cx - r)}" y="${n(cy - r)}" width="${n(2 * r)}" height="${n(2 * r)}" rx="${n(r / 5)}" transform="rotate(${turn} ${n(cx)} ${n(cy)})" ${style}/>`;
  }
  const points = [0, 1, 2]
    .map((i) => {
      const a = (i * 2 * Math.PI) / 3 - Math.PI / 2;
      return `${n(cx + Math.cos(a) * r)},${n(cy + Math.sin(a) * r)}`;
    })
    .join(' ');
  return `<polygon points="${points}" transform="rotate(${turn} ${n(cx)} ${n(cy)})" ${style}/>`;
};

const captionOf = (scene: Scene): string => {
  const size = Math.max(10, Math.round(Math.min(scene.width, scene.height) / 24));
  const text = scene.prompt.length > 80 ? `${scene.prompt.slice(0, 79)}…` : scene.prompt;
  const band = size * 2;
  return (
    `<rect x="0" y="${scene.height - band}" width="${scene.width}" height="${band}" fill="black" fill-opacity="0.35"/>` +
    `<text x="${size}" y="${n(scene.height - band / 2 + size / 3)}" font-family="sans-serif" font-size="${size}" fill="white">${escapeXml(text)}</text>`
  );
};

/** The SVG of a scene at a moment of its animation (time 0..1; a still image is time 0). */
export const sceneSvg = (scene: Scene, time = 0): Buffer => {
  const random = randomFrom(hash32(`${scene.prompt}\u0000${scene.seed}`));
  const hueA = Math.floor(random() * 360);
  const hueB = (hueA + 60 + Math.floor(random() * 180)) % 360;
  const tilt = n(random());
  const shapes = shapesOf(random, 5 + Math.floor(random() * 5));
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}">` +
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="1" y2="${tilt}">` +
    `<stop offset="0" stop-color="hsl(${(hueA + time * 40) % 360},60%,22%)"/>` +
    `<stop offset="1" stop-color="hsl(${(hueB + time * 40) % 360},70%,45%)"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#sky)"/>` +
    shapes.map((shape) => drawShape(shape, scene, time)).join('') +
    (scene.caption ? captionOf(scene) : '') +
    `</svg>`;
  return Buffer.from(svg);
};
