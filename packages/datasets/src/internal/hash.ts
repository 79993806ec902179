/** A bijective 32-bit integer mixer (the murmur3 finaliser): nearby inputs give unrelated outputs. */
export const mixSeed = (value: number): number => {
  let mixed = value >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b) >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35) >>> 0;
  return (mixed ^ (mixed >>> 16)) >>> 0;
};

/** FNV-1a over the UTF-16 code units of a string, as an unsigned 32-bit integer. */
export const fingerprint = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return mixSeed(hash);
};
