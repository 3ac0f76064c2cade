/**
 * Stand-in RTOS images: a readable header, then an xorshift sequence from a seed. Deterministic,
 * so the example units can pin their sha256, and different per seed.
 */
export function deterministicImage(size: number, header: string, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const head = new TextEncoder().encode(header);
  bytes.set(head, 0);
  let x = seed;
  for (let i = head.length; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}
