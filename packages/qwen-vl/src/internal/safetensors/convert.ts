/** bfloat16 → float32: the 16 stored bits are the high half of the float32 bit pattern. */
export const bf16ToFloat32 = (halves: Uint16Array): Float32Array => {
  const bits = new Uint32Array(halves.length);
  for (let index = 0; index < halves.length; index++) bits[index] = halves[index]! << 16;
  return new Float32Array(bits.buffer);
};

/** IEEE 754 binary16 → float32, subnormals, infinities and NaN included. */
export const f16ToFloat32 = (halves: Uint16Array): Float32Array => {
  const out = new Float32Array(halves.length);
  for (let index = 0; index < halves.length; index++) {
    const half = halves[index]!;
    const sign = half & 0x8000 ? -1 : 1;
    const exponent = (half >> 10) & 0x1f;
    const fraction = half & 0x3ff;
    if (exponent === 0) out[index] = sign * fraction * 2 ** -24;
    else if (exponent === 0x1f) out[index] = fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else out[index] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
};
