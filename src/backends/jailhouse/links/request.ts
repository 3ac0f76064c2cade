/**
 * What a Link unit asks for, once its YAML is read: one ivshmem v2 channel between peers, with the
 * sizes of its sections and the places it may be pinned to. Everything downstream (placement,
 * generation, facts) reads only these types, so the unit's spelling can change without them.
 */
import type { ProblemCode } from '../../../errors/codes.js';
import type { Severity } from '../../../errors/problem.js';
import type { ValuePath } from '../../../units/yaml-source.js';
import type { Arch, Revision } from '../../../jailhouse/index.js';

export interface IvshmemPeer {
  /** undefined: the root cell; otherwise the key of a non-root cell (its unit id, 'nuttx.cell'). */
  cell?: string;
  /** Guest address of this peer's window (the state table; the other sections follow it). Default: the physical address. */
  virtStart?: bigint;
  /** This peer's mapping of the R/W section: its own guest address, extra flags (e.g. LOADABLE). */
  rw?: { virtStart?: bigint; flags?: string[] };
}

export interface IvshmemLinkRequest {
  /** The Link unit's id ('shadow.link'): named in findings, and the tie-break that keeps results stable. */
  id: string;
  /** In peer-id order: index k is shmem_dev_id k. */
  peers: IvshmemPeer[];
  /** 0 undefined, 1 veth, 0x0002 (cRTOS shadow), 0x4000.. custom, virtio 0x8000/0xC000 + device. */
  protocol: number;
  /** Usually one page. */
  stateSize: bigint;
  /** May be 0 (no R/W section). */
  rwSize: bigint;
  /** The size of each peer's output section; may be 0 (none). */
  outputSize: bigint;
  /** Extra flags on every peer's R/W mapping (cRTOS: EXECUTE). */
  rwFlags: string[];
  /** Default (defaults.ts): x86 -> veth 2, else 1; arm/arm64 -> 0 (INTx). */
  msixVectors?: number;
  /** Pinned PCI address (bus << 8 | device << 3 | function); allocated when absent. */
  bdf?: number;
  /** Pinned physical base of the window; allocated from the pool when absent. */
  address?: bigint;
  /** Default by revision and vectors (defaults.ts). */
  barMask?: number[];
}

/** The physical memory links are carved from (the inmate memory `jailhouse config create --mem-inmates` reserves). */
export interface LinkPool {
  start: bigint;
  size: bigint;
  /** Alignment of every allocated window; default 1 MiB. */
  align?: bigint;
}

/** Where a link went: the physical base of its window and its PCI address. */
export interface LinkPlacement {
  address: bigint;
  bdf: number;
  /** The window's size when it was placed; lets a later placement tell a grown link from an unchanged one. */
  footprint: bigint;
}

/** A PCI address a device of some cell's base configuration already uses. */
export interface UsedBdf {
  /** undefined: the root cell. */
  cell: string | undefined;
  bdf: number;
}

/** Which configurations are generated: their revision and architecture decide the defaults. */
export interface LinkTarget {
  revision: Revision;
  arch: Arch;
  /** PCI domain of the generated devices (peers of one link may differ); default 0. */
  domain?: number;
}

/**
 * A problem with one link, as data: the lead turns it into a Problem at the Link unit's `field`
 * (a path in the unit's YAML, LINK_FIELDS).
 */
export interface LinkFinding {
  link: string;
  field: ValuePath;
  code: ProblemCode;
  message: string;
  hint: string;
  severity: Severity;
}

/**
 * The Link unit fields findings point at. Kept in one place so the unit's schema can rename them
 * without touching the checks.
 */
export const LINK_FIELDS = {
  peers: ['peers'],
  peer: (index: number): ValuePath => ['peers', index],
  peerRw: (index: number): ValuePath => ['peers', index, 'rw'],
  peerRwVirt: (index: number): ValuePath => ['peers', index, 'rw', 'virtStart'],
  peerRwFlags: (index: number): ValuePath => ['peers', index, 'rw', 'flags'],
  peerVirt: (index: number): ValuePath => ['peers', index, 'virtStart'],
  protocol: ['protocol'],
  /** The link as a whole (one that does not fit): the unit's own position. */
  sections: [],
  state: ['stateSize'],
  rw: ['rwSize'],
  output: ['outputSize'],
  rwFlags: ['rwFlags'],
  msixVectors: ['msixVectors'],
  pci: ['pci'],
  address: ['address'],
  barMask: ['barMask'],
} as const satisfies Record<string, ValuePath | ((i: number) => ValuePath)>;

export function finding(link: string, field: ValuePath, code: ProblemCode, message: string, hint: string, severity: Severity = 'error'): LinkFinding {
  return { link, field, code, message, hint, severity };
}

/** 'the root cell' or 'nuttx.cell', for messages. */
export function peerLabel(peer: IvshmemPeer): string {
  return peer.cell === undefined ? 'the root cell' : peer.cell;
}

/** The peer index (shmem_dev_id) `cell` has in `link`, or -1. */
export function peerIndexOf(link: IvshmemLinkRequest, cell: string | undefined): number {
  return link.peers.findIndex((p) => p.cell === cell);
}
