/**
 * Properties over random sets of links and cells: the generated configurations encode and decode
 * to what was described, windows stay in the pool without overlapping, the cross-cell checks find
 * nothing, and placement is stable and independent of the order of the requests. Expected
 * addresses, sizes and flags are computed here from the requests, not by the module.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addLinks, addLinksToSystem, checkLinkRequest, placeLinks, type IvshmemLinkRequest, type IvshmemPeer, type LinkPool, type PlacedLink } from '../../../../src/backends/jailhouse/links/index.js';
import { checkConfigs, decodeConfig, encodeConfig, type CellConfig, type ConfigFile, type Revision } from '../../../../src/jailhouse/index.js';
import { crtosBaseSystemConfig, nuttxOwnCellConfig, type ExampleOptions } from '../../../../src/sim/crtos-example.js';
import { KiB, MiB } from './helpers.js';

const CELLS = ['c1.cell', 'c2.cell', 'c3.cell'] as const;
const PAGE = 4n * KiB;
const POOL_START = 0x1_0000_0000n;
const roundUp = (v: bigint): bigint => ((v + PAGE - 1n) / PAGE) * PAGE;

const sizeArb = (max: bigint): fc.Arbitrary<bigint> => fc.oneof(fc.constant(0n), fc.bigInt(1n, max), fc.bigInt(1n, max / PAGE).map((p) => p * PAGE));

/**
 * A link among the root cell and CELLS. A cell may map it elsewhere than its physical address: the
 * window at 128 MiB × (index + 1), the r/w section 64 MiB above that, so no two overlap in a cell.
 */
const linkArb = (index: number, poolSize: bigint): fc.Arbitrary<IvshmemLinkRequest> =>
  fc
    .record({
      peers: fc.shuffledSubarray<string | undefined>([undefined, ...CELLS], { minLength: 2 }),
      moved: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      loadable: fc.boolean(),
      rwMoved: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      protocol: fc.constantFrom(0, 1, 2, 0x4000, 0x8001, 0xc002),
      stateSize: fc.oneof(fc.constant(PAGE), fc.bigInt(1n, 3n * PAGE)),
      rwSize: sizeArb(4n * MiB),
      outputSize: sizeArb(MiB),
      rwFlags: fc.subarray(['EXECUTE', 'DMA']),
      msixVectors: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
      bdf: fc.option(fc.integer({ min: 0, max: 31 }).map((slot) => slot << 3), { nil: undefined, freq: 4 }),
      address: fc.option(fc.bigInt(0n, poolSize / PAGE - 1n).map((page) => POOL_START + page * PAGE), { nil: undefined, freq: 4 }),
    })
    .map(({ peers, moved, loadable, rwMoved, ...rest }) => ({
      id: `l${index}.link`,
      peers: peers.map((cell, k): IvshmemPeer => {
        if (cell === undefined) return {};
        const guest = BigInt(index + 1) * 0x0800_0000n;
        const rw = { ...(loadable ? { flags: ['LOADABLE'] } : {}), ...(rwMoved[k] ? { virtStart: guest + 0x0400_0000n } : {}) };
        return { cell, ...(moved[k] ? { virtStart: guest } : {}), ...(loadable || rwMoved[k] ? { rw } : {}) };
      }),
      ...rest,
    }));

const setArb = fc
  .record({
    poolSize: fc.integer({ min: 2, max: 48 }).map((m) => BigInt(m) * MiB),
    align: fc.constantFrom(PAGE, 64n * KiB, MiB),
    count: fc.integer({ min: 1, max: 8 }),
    revision: fc.constantFrom<Revision>(12, 13, 14),
  })
  .chain((s) => fc.tuple(fc.constant(s), fc.tuple(...Array.from({ length: s.count }, (_, i) => linkArb(i, s.poolSize)))));

const pool = (s: { poolSize: bigint; align: bigint }): LinkPool => ({ start: POOL_START, size: s.poolSize, align: s.align });
/** What the lead would do: links with an error of their own are refused before placement. */
const acceptable = (links: IvshmemLinkRequest[]): IvshmemLinkRequest[] => links.filter((l) => checkLinkRequest(l, { arch: 'x86' }).every((f) => f.severity !== 'error'));

const options = (revision: Revision): ExampleOptions => ({ revision, arch: 'x86', cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } });
const ownCell = (o: ExampleOptions, id: string, cpu: number): CellConfig => ({ ...nuttxOwnCellConfig(o), name: id.replace('.cell', ''), cpus: [cpu] });

function roundTrip<T extends ConfigFile>(config: T): T {
  const decoded = decodeConfig(encodeConfig(config), { arch: config.arch });
  if (!decoded.ok) throw new Error(decoded.problems.map((p) => p.message).join('; '));
  return decoded.config as T;
}

/** The expected section spans of a link, from its request alone. */
function expectedSections(l: IvshmemLinkRequest, base: bigint): { phys: bigint; size: bigint }[] {
  const state = roundUp(l.stateSize);
  const rw = roundUp(l.rwSize);
  const out = roundUp(l.outputSize);
  return [
    { phys: base, size: state },
    { phys: base + state, size: rw },
    ...l.peers.map((_, k) => ({ phys: base + state + rw + BigInt(k) * out, size: out })),
  ];
}

/** Every link placed or refused with an error; placed windows inside the pool, aligned unless pinned, disjoint; bdfs unique. */
function expectSound(s: { poolSize: bigint; align: bigint }, links: IvshmemLinkRequest[], r: ReturnType<typeof placeLinks>): void {
  for (const l of links) expect(r.placements.has(l.id) || r.findings.some((f) => f.link === l.id && f.severity === 'error')).toBe(true);
  const windows = links
    .filter((l) => r.placements.has(l.id))
    .map((l) => {
      const p = r.placements.get(l.id)!;
      const sections = expectedSections(l, p.address);
      const end = sections.at(-1)!.phys + sections.at(-1)!.size;
      return { start: p.address, end: end - p.address < PAGE ? p.address + PAGE : end, bdf: p.bdf, pinned: l.address };
    });
  for (const w of windows) {
    expect(w.start >= POOL_START && w.end <= POOL_START + s.poolSize).toBe(true);
    if (w.pinned === undefined) expect(w.start % s.align).toBe(0n);
    else expect(w.start).toBe(w.pinned);
  }
  windows.forEach((a, i) => windows.slice(i + 1).forEach((b) => expect(a.end <= b.start || b.end <= a.start).toBe(true)));
  expect(new Set(windows.map((w) => w.bdf)).size).toBe(windows.length);
}

describe('links, for random sets of links and cells', () => {
  it('places every link in the pool without overlaps, or says why not; PCI addresses are unique', () => {
    fc.assert(
      fc.property(setArb, ([s, links]) => expectSound(s, links, placeLinks({ pool: pool(s), links }))),
      { numRuns: 300 },
    );
  });

  it('generates configurations that decode to what was described and that cell-config check finds nothing in', () => {
    fc.assert(
      fc.property(setArb, ([s, requested]) => {
        const links = acceptable(requested);
        const o = options(s.revision);
        const { placements } = placeLinks({ pool: pool(s), links });
        const placed: PlacedLink[] = links.filter((l) => placements.has(l.id)).map((request) => ({ request, placement: placements.get(request.id)! }));
        const system = roundTrip(addLinksToSystem(crtosBaseSystemConfig(o), placed));
        const cells = CELLS.map((id, i) => ({ id, config: roundTrip(addLinks(ownCell(o, id, i + 1), id, placed, o)) }));
        const configOf = (cell: string | undefined): CellConfig => (cell === undefined ? system.rootCell : cells.find((c) => c.id === cell)!.config);

        for (const { request: l, placement } of placed) {
          const sections = expectedSections(l, placement.address);
          l.peers.forEach((peer, k) => {
            const config = configOf(peer.cell);
            const devices = config.pciDevices.filter((d) => d.bdf === placement.bdf);
            expect(devices).toHaveLength(1);
            const dev = devices[0]!;
            expect([dev.type, dev.shmemDevId, dev.shmemPeers, dev.shmemProtocol]).toEqual(['ivshmem', k, l.peers.length, l.protocol]);
            if (l.msixVectors !== undefined) expect(dev.numMsixVectors).toBe(l.msixVectors);
            const regions = config.memoryRegions.slice(dev.shmemRegionsStart, dev.shmemRegionsStart + 2 + l.peers.length);
            expect(regions).toHaveLength(2 + l.peers.length);
            regions.forEach((r, i) => {
              const want = sections[i]!;
              if (want.size === 0n) return expect(r).toEqual({ physStart: 0n, virtStart: 0n, size: 0n, flags: [] });
              expect([r.physStart, r.size]).toEqual([want.phys, want.size]);
              expect(r.virtStart).toBe(i === 1 && peer.rw?.virtStart !== undefined ? peer.rw.virtStart : want.phys - placement.address + (peer.virtStart ?? placement.address));
              expect(r.flags.includes('READ') && r.flags.includes('ROOTSHARED')).toBe(true);
              expect(r.flags.includes('WRITE')).toBe(i === 1 || i === 2 + k);
              if (i === 1) for (const f of [...l.rwFlags, ...(peer.rw?.flags ?? [])]) expect(r.flags).toContain(f);
            });
          });
        }
        // Each configuration has exactly its links' devices.
        for (const cell of [undefined, ...CELLS]) expect(configOf(cell).pciDevices).toHaveLength(placed.filter((p) => p.request.peers.some((q) => q.cell === cell)).length);
        // A link between non-root cells is in no root-cell region, by design (editing it must not
        // change the system configuration): the link pool counts as the system's RAM, as the
        // Jailhouse backend tells the check.
        const findings = checkConfigs({ system: { file: 'sysconfig.cell', config: system }, cells: cells.map((c) => ({ file: c.id, config: c.config })), inmateMemory: [pool(s)] });
        expect(findings).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('places the same whatever the order of the requests', () => {
    fc.assert(
      fc.property(
        setArb.chain(([s, links]) => fc.tuple(fc.constant(s), fc.constant(links), fc.shuffledSubarray(links, { minLength: links.length }))),
        ([s, links, shuffled]) => {
          expect(placeLinks({ pool: pool(s), links: shuffled })).toEqual(placeLinks({ pool: pool(s), links }));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with previous, changing the size of one unpinned link moves no other link', () => {
    fc.assert(
      fc.property(
        setArb.chain(([s, links]) => fc.tuple(fc.constant(s), fc.constant(links), fc.nat(links.length - 1), sizeArb(8n * MiB))),
        ([s, links, j, rwSize]) => {
          fc.pre(links[j]!.address === undefined);
          const first = placeLinks({ pool: pool(s), links });
          const edited = links.map((l, i) => (i === j ? { ...l, rwSize } : l));
          const second = placeLinks({ pool: pool(s), links: edited, previous: first.placements });
          expectSound(s, edited, second);
          for (const [id, before] of first.placements) {
            if (id === links[j]!.id) continue;
            expect(second.placements.get(id)).toMatchObject({ address: before.address, bdf: before.bdf });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
