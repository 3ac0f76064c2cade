import type { IvshmemLinkRequest } from '../../../../src/backends/jailhouse/links/index.js';

export const KiB = 1024n;
export const MiB = 1024n * KiB;

/** A two-peer link (root, a.cell) with one page of state, no r/w section and 4 KiB outputs, with `over` on top. */
export function link(id: string, over: Partial<IvshmemLinkRequest> = {}): IvshmemLinkRequest {
  return { id, peers: [{}, { cell: 'a.cell' }], protocol: 0x4000, stateSize: 4n * KiB, rwSize: 0n, outputSize: 4n * KiB, rwFlags: [], ...over };
}
