/**
 * The sha256 of an image on the machine, hashed a piece at a time. Real images run to many MB:
 * read whole and hashed at once, one took the event loop for as long as hashing all of it takes
 * (16 MiB: 8 ms in one turn on the development machine, whose CPU has SHA instructions), while
 * D-Bus calls and tools' exits waited. Read through the Host in pieces and hashed under one gate
 * for the whole process, no turn of the loop hashes more than about a MiB whatever the images'
 * sizes, and a file is never held whole in memory to be hashed.
 */
import { createHash } from 'node:crypto';
import type { Host } from '../../host/host.js';
import { TurnGate } from '../../engine/turns.js';

/** Bytes read and hashed as one piece. */
export const HASH_CHUNK_BYTES = 512 * 1024;

/** Bytes handed to the gate so far, the piece asking included: the gate's clock. */
let offered = 0;
/**
 * Lets a piece be hashed in the current turn while the pieces let through in it came to less than
 * HASH_CHUNK_BYTES, else in a later turn, one waiting piece a turn (a TurnGate whose clock counts
 * bytes instead of milliseconds): thirty cells verifying the same image at once have their reads
 * complete together, and would otherwise all hash in that one turn. Small files (configurations)
 * go through together without waiting.
 */
const hashing = new TurnGate(HASH_CHUNK_BYTES, () => offered);

async function sha256OfPieces(pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of pieces) {
    // Counted before asking: pieces asking in the same turn see each other before any is hashed.
    offered += piece.length;
    await hashing.turn();
    hash.update(piece);
  }
  return hash.digest('hex');
}

/** A machine file's sha256 (hex), read through the Host a piece at a time; rejects as Host.readChunks does (HOST_READ_FAILED). */
export function fileSha256(host: Pick<Host, 'readChunks'>, machinePath: string, chunkBytes = HASH_CHUNK_BYTES): Promise<string> {
  return sha256OfPieces(host.readChunks(machinePath, chunkBytes));
}

function* piecesOf(bytes: Uint8Array, chunkBytes: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes);
}

/** The sha256 (hex) of bytes already read (a file the checks also decode), hashed a piece at a time as fileSha256's. */
export function bytesSha256(bytes: Uint8Array, chunkBytes = HASH_CHUNK_BYTES): Promise<string> {
  return sha256OfPieces(piecesOf(bytes, chunkBytes));
}
