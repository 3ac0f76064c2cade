import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxHost, type Host } from '../../../src/host/index.js';
import { bytesSha256, fileSha256, HASH_CHUNK_BYTES } from '../../../src/kinds/image/digest.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A multi-MB image: 5 pieces and a bit more. */
const IMAGE = randomBytes(5 * HASH_CHUNK_BYTES + 123);

describe('fileSha256', () => {
  it('hashes a multi-MB image read in pieces through the Host to the sha256 of the whole file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'crtos-digest-'));
    try {
      mkdirSync(join(root, 'opt'));
      writeFileSync(join(root, 'opt/big.bin'), IMAGE);
      const real = createLinuxHost({ root });
      const reads: number[] = [];
      const host: Pick<Host, 'readChunks'> = {
        async *readChunks(path, chunkBytes) {
          for await (const piece of real.readChunks(path, chunkBytes)) {
            reads.push(piece.length);
            yield piece;
          }
        },
      };
      expect(await fileSha256(host, '/opt/big.bin')).toBe(sha(IMAGE));
      // Six reads, none over a piece: the file was never read or hashed whole.
      expect(reads.length).toBe(6);
      expect(Math.max(...reads)).toBe(HASH_CHUNK_BYTES);
      await expect(fileSha256(real, '/opt/none.bin')).rejects.toMatchObject({ code: 'HOST_READ_FAILED', errno: 'ENOENT' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('hashes one piece per turn of the loop, also for two images at once', async () => {
    const log: string[] = [];
    // Pieces at hand at once (no I/O between them): only the hashing gate lets the loop turn.
    const inMemory = (name: string): Pick<Host, 'readChunks'> => ({
      async *readChunks(_path, chunkBytes) {
        for (let at = 0; at < IMAGE.length; at += chunkBytes) {
          log.push(name);
          yield IMAGE.subarray(at, at + chunkBytes);
        }
      },
    });
    let hashing = true;
    const ticking = (async () => {
      while (hashing) {
        await new Promise((r) => setImmediate(r));
        log.push('turn');
      }
    })();
    const [a, b] = await Promise.all([fileSha256(inMemory('a'), '/a'), fileSha256(inMemory('b'), '/b')]);
    hashing = false;
    await ticking;
    expect([a, b]).toEqual([sha(IMAGE), sha(IMAGE)]);
    // A piece is asked for once the one before it was hashed. Both first pieces are asked for at
    // once, and a's second once its first went through; from then on the loop turned between any two.
    const requests = log.map((l, i) => (l === 'turn' ? -1 : i)).filter((i) => i >= 0);
    expect(requests.length).toBe(12);
    let withoutTurn = 0;
    for (let k = 1; k < requests.length; k++) if (!log.slice(requests[k - 1]!, requests[k]).includes('turn')) withoutTurn++;
    expect(withoutTurn).toBe(2);
  });
});

describe('bytesSha256', () => {
  it('hashes bytes already read, a piece at a time, to the same sha256', async () => {
    expect(await bytesSha256(IMAGE)).toBe(sha(IMAGE));
    expect(await bytesSha256(new Uint8Array(0))).toBe(sha(new Uint8Array(0)));
  });
});
