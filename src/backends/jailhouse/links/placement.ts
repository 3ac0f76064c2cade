/**
 * Where links go in the pool. Pinned windows first, then links kept where they were (`previous`),
 * then the rest first-fit, largest first, ties by id: a pure function of the requests, and with
 * `previous` an edit to one link moves no other. Links whose window did not grow are kept before
 * links whose window grew, so a grown link that now collides is the one that moves (or, pinned,
 * the one reported).
 */
import { formatHex, formatSize } from '../../../jailhouse/values.js';
import { DEFAULT_POOL_ALIGN, PAGE_SIZE } from './defaults.js';
import { alignUp, linkFootprint, sectionSizes } from './footprint.js';
import { allocateBdfs } from './pci.js';
import { byId, compareBig } from './order.js';
import { finding, LINK_FIELDS, type IvshmemLinkRequest, type LinkFinding, type LinkPlacement, type LinkPool, type UsedBdf } from './request.js';

export interface PlaceLinksInput {
  pool: LinkPool;
  /** With unique ids (unit ids are); run checkLinkRequest on each first, placement does not repeat its checks. */
  links: readonly IvshmemLinkRequest[];
  /** PCI addresses devices of the cells' base configurations use. */
  usedBdfs?: readonly UsedBdf[];
  /** The placements in force, by link id. */
  previous?: ReadonlyMap<string, LinkPlacement>;
}

export interface PlaceLinksResult {
  /** Only links that got both a window and a PCI address. */
  placements: Map<string, LinkPlacement>;
  findings: LinkFinding[];
}

interface Window {
  id: string;
  start: bigint;
  size: bigint;
}

const range = (start: bigint, size: bigint): string => `${formatHex(start)}..${formatHex(start + size)}`;

/** The hypervisor maps at least the state table's page, so even an empty link takes one. */
const windowSize = (link: IvshmemLinkRequest): bigint => {
  const size = linkFootprint(link);
  return size < PAGE_SIZE ? PAGE_SIZE : size;
};

class PoolMap {
  readonly windows: Window[] = [];
  readonly end: bigint;
  constructor(readonly pool: LinkPool) {
    this.end = pool.start + pool.size;
  }
  contains(start: bigint, size: bigint): boolean {
    return start >= this.pool.start && start + size <= this.end;
  }
  clash(start: bigint, size: bigint): Window | undefined {
    return this.windows.find((w) => start < w.start + w.size && w.start < start + size);
  }
  take(id: string, start: bigint, size: bigint): void {
    this.windows.push({ id, start, size });
  }
  /** The free stretches of the pool, ascending. */
  gaps(): { start: bigint; end: bigint }[] {
    const out: { start: bigint; end: bigint }[] = [];
    let cursor = this.pool.start;
    for (const w of [...this.windows].sort((a, b) => compareBig(a.start, b.start))) {
      if (w.start > cursor) out.push({ start: cursor, end: w.start });
      if (w.start + w.size > cursor) cursor = w.start + w.size;
    }
    if (this.end > cursor) out.push({ start: cursor, end: this.end });
    return out;
  }
  /** The lowest `align`-aligned start of a free stretch that holds `size`. */
  firstFit(size: bigint, align: bigint): bigint | undefined {
    for (const gap of this.gaps()) {
      const start = alignUp(gap.start, align);
      if (start + size <= gap.end) return start;
    }
    return undefined;
  }
  /** The largest window an aligned start could get. */
  largestFree(align: bigint): bigint {
    return this.gaps().reduce((best, gap) => {
      const usable = gap.end - alignUp(gap.start, align);
      return usable > best ? usable : best;
    }, 0n);
  }
}

function placePinned(map: PoolMap, link: IvshmemLinkRequest & { address: bigint }, size: bigint): LinkFinding | undefined {
  const at = link.address;
  const pool = map.pool;
  if (at % PAGE_SIZE !== 0n) {
    return finding(link.id, LINK_FIELDS.address, 'CELLCFG_LINK_ADDRESS', `address ${formatHex(at)} is not a multiple of the 4 KiB page`, `the hypervisor refuses unaligned regions; use ${formatHex(at - (at % PAGE_SIZE))} or ${formatHex(alignUp(at, PAGE_SIZE))}`);
  }
  if (!map.contains(at, size)) {
    return finding(link.id, LINK_FIELDS.address, 'CELLCFG_LINK_ADDRESS', `the window ${range(at, size)} (${formatSize(size)}) is not inside the link pool ${range(pool.start, pool.size)}`, 'pin an address inside the pool, or leave `address` out to have the link placed');
  }
  const other = map.clash(at, size);
  if (other) {
    return finding(link.id, LINK_FIELDS.address, 'CELLCFG_LINK_ADDRESS', `the window ${range(at, size)} overlaps link ${other.id} at ${range(other.start, other.size)}`, 'pin the links to windows that do not overlap, or leave `address` out on one of them');
  }
  map.take(link.id, at, size);
  return undefined;
}

function noRoom(map: PoolMap, link: IvshmemLinkRequest, size: bigint, align: bigint): LinkFinding {
  const s = sectionSizes(link);
  const parts = `state ${formatSize(s.state)} + r/w ${formatSize(s.rw)} + ${link.peers.length} × output ${formatSize(s.output)}`;
  const pool = map.pool;
  return finding(
    link.id,
    LINK_FIELDS.sections,
    'CELLCFG_LINK_POOL_FULL',
    `the link needs ${formatHex(size)} bytes (${parts}), but the link pool ${range(pool.start, pool.size)} (${formatSize(pool.size)}) has at most ${formatSize(map.largestFree(align))} free in one piece aligned to ${formatSize(align)}`,
    'make the pool larger, make the sections of this or another link smaller, or remove a link',
  );
}

export function placeLinks(input: PlaceLinksInput): PlaceLinksResult {
  const { pool, links } = input;
  const previous = input.previous ?? new Map<string, LinkPlacement>();
  const align = pool.align ?? DEFAULT_POOL_ALIGN;
  const map = new PoolMap(pool);
  const findings: LinkFinding[] = [];
  const sizes = new Map(links.map((l) => [l.id, windowSize(l)]));
  const sizeOf = (l: IvshmemLinkRequest): bigint => sizes.get(l.id)!;

  // A pinned window that is where it was and did not grow wins over one that moved or grew into it.
  const settled = (l: IvshmemLinkRequest & { address: bigint }): boolean => {
    const before = previous.get(l.id);
    return before !== undefined && before.address === l.address && sizeOf(l) <= before.footprint;
  };
  const pinned = links.filter((l): l is IvshmemLinkRequest & { address: bigint } => l.address !== undefined);
  for (const link of pinned.sort((a, b) => Number(settled(b)) - Number(settled(a)) || compareBig(a.address, b.address) || byId(a, b))) {
    const problem = placePinned(map, link, sizeOf(link));
    if (problem) findings.push(problem);
  }

  const free = links.filter((l) => l.address === undefined);
  // Likewise a link that did not grow keeps its window before one that grew.
  const grew = (l: IvshmemLinkRequest): boolean => sizeOf(l) > previous.get(l.id)!.footprint;
  const kept = free.filter((l) => previous.has(l.id)).sort((a, b) => Number(grew(a)) - Number(grew(b)) || compareBig(previous.get(a.id)!.address, previous.get(b.id)!.address) || byId(a, b));
  const placed = new Set<string>();
  for (const link of kept) {
    const at = previous.get(link.id)!.address;
    if (map.contains(at, sizeOf(link)) && !map.clash(at, sizeOf(link))) {
      map.take(link.id, at, sizeOf(link));
      placed.add(link.id);
    }
  }

  const rest = free.filter((l) => !placed.has(l.id)).sort((a, b) => compareBig(sizeOf(b), sizeOf(a)) || byId(a, b));
  for (const link of rest) {
    const at = map.firstFit(sizeOf(link), align);
    if (at === undefined) findings.push(noRoom(map, link, sizeOf(link), align));
    else map.take(link.id, at, sizeOf(link));
  }

  const pci = allocateBdfs(links, input.usedBdfs ?? [], previous);
  findings.push(...pci.findings);
  const placements = new Map<string, LinkPlacement>();
  for (const link of [...links].sort(byId)) {
    const window = map.windows.find((w) => w.id === link.id);
    const bdf = pci.bdfs.get(link.id);
    if (window && bdf !== undefined) placements.set(link.id, { address: window.start, bdf, footprint: window.size });
  }
  return { placements, findings };
}
