/**
 * `count` samples of N(0, std²) from a fast seeded generator (SplitMix32 uniforms, Box–Muller in
 * pairs), as float32. Deterministic in `seed`; about 10× faster than `tf.randomNormal`, which matters
 * for random models of hundreds of millions of weights.
 */
export const seededNormal = (count: number, std: number, seed: number): Float32Array => {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  const uniform = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let index = 0; index < count; index += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    out[index] = radius * Math.cos(angle);
    if (index + 1 < count) out[index + 1] = radius * Math.sin(angle);
  }
  return out;
};
