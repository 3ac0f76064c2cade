/**
 * The acceptance test of issue 12: the cRTOS example's two links, described once, generate the
 * hand-written configurations the simulated machine ships, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { addLinks, addLinksToSystem, checkLinkRequest, linkFacts, placeLinks, type IvshmemLinkRequest, type PlacedLink } from '../../../../src/backends/jailhouse/links/index.js';
import { checkConfigs, decodeConfig, encodeConfig, type Arch, type Revision } from '../../../../src/jailhouse/index.js';
import { crtosBaseSystemConfig, crtosSystemConfig, INMATE_MEMORY, NET_BDF, nuttxCellConfig, nuttxOwnCellConfig, SHADOW_BDF, type ExampleOptions } from '../../../../src/sim/crtos-example.js';

const K = 1024n;
const NUTTX = 'nuttx.cell';

/** The two links as the cRTOS guide describes them. */
function exampleLinks(arch: Arch): IvshmemLinkRequest[] {
  return [
    {
      id: 'shadow.link',
      peers: [{}, { cell: NUTTX, rw: { virtStart: 0n, flags: ['LOADABLE'] } }],
      protocol: 0x0002,
      stateSize: 4n * K,
      rwSize: 1024n * 1024n * K,
      outputSize: 4n * K,
      rwFlags: ['EXECUTE'],
      msixVectors: 16,
      bdf: 0x0e << 3,
    },
    {
      id: 'ivshmem-net.link',
      peers: [{}, { cell: NUTTX }],
      protocol: 0x0001,
      stateSize: 4n * K,
      rwSize: 0n,
      outputSize: 508n * K,
      rwFlags: [],
      // The example gives ivshmem-net 2 MSI-X vectors on every architecture; on ARM the default is INTx.
      ...(arch === 'x86' ? {} : { msixVectors: 2 }),
      bdf: 0x0d << 3,
    },
  ];
}

function generate(o: ExampleOptions): { system: Uint8Array; nuttx: Uint8Array; placed: PlacedLink[] } {
  const links = exampleLinks(o.arch);
  for (const link of links) expect(checkLinkRequest(link, o)).toEqual([]);
  const { placements, findings } = placeLinks({ pool: INMATE_MEMORY, links });
  expect(findings).toEqual([]);
  const placed = links.map((request) => ({ request, placement: placements.get(request.id)! }));
  return {
    system: encodeConfig(addLinksToSystem(crtosBaseSystemConfig(o), placed)),
    nuttx: encodeConfig(addLinks(nuttxOwnCellConfig(o), NUTTX, placed, o)),
    placed,
  };
}

/** cell-config check over the generated configurations, decoded from their bytes as the daemon reads them. */
function checkGenerated(o: ExampleOptions): ReturnType<typeof checkConfigs> {
  const { system, nuttx } = generate(o);
  const sys = decodeConfig(system, { arch: o.arch });
  const cell = decodeConfig(nuttx, { arch: o.arch });
  if (!sys.ok || sys.config.kind !== 'system' || !cell.ok || cell.config.kind !== 'cell') throw new Error('generated configurations do not decode');
  return checkConfigs({ system: { file: 'sysconfig.cell', config: sys.config }, cells: [{ file: 'nuttx.cell', config: cell.config }] });
}

const options = (revision: Revision, arch: Arch): ExampleOptions => ({ revision, arch, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } });
const MATRIX = ([12, 13, 14] as const).flatMap((revision) => (['x86', 'arm64'] as const).map((arch) => options(revision, arch)));

describe('the cRTOS example from its two links', () => {
  it('places the shadow link at the start of the inmate memory and ivshmem-net at the next MiB after it', () => {
    const { placed } = generate(options(12, 'x86'));
    expect(placed.map((l) => [l.request.id, l.placement.address, l.placement.bdf])).toEqual([
      ['shadow.link', 0x1_0000_0000n, SHADOW_BDF],
      ['ivshmem-net.link', 0x1_4010_0000n, NET_BDF],
    ]);
  });

  it.each(MATRIX)('revision $revision, $arch: base + links == the hand-written system and nuttx configurations, byte for byte', (o) => {
    const { system, nuttx } = generate(o);
    expect(Buffer.from(system).equals(encodeConfig(crtosSystemConfig(o)))).toBe(true);
    expect(Buffer.from(nuttx).equals(encodeConfig(nuttxCellConfig(o)))).toBe(true);
  });

  it('cell-config check finds nothing in the generated x86 configurations', () => {
    for (const o of MATRIX.filter((m) => m.arch === 'x86')) expect(checkGenerated(o)).toEqual([]);
  });

  it("arm64: the links add no finding to those of the example's own parts (its Linux RAM covers the GIC)", () => {
    for (const o of MATRIX.filter((m) => m.arch === 'arm64')) {
      const own = checkConfigs({ system: { file: 'sysconfig.cell', config: crtosBaseSystemConfig(o) }, cells: [{ file: 'nuttx.cell', config: nuttxOwnCellConfig(o) }] });
      expect(own.map((p) => p.code)).toEqual(['CELLCFG_OVERLAP_IRQCHIP', 'CELLCFG_OVERLAP_IRQCHIP']);
      expect(checkGenerated(o)).toEqual(own);
    }
  });

  it("gives the shadow driver's shmaddr and the network interface as the guide writes them", () => {
    const [shadow, net] = generate(options(12, 'x86')).placed;
    expect(linkFacts(shadow!.request, shadow!.placement)).toMatchObject({ rwAddress: 0x1_0000_1000n, bdf: '00:0e.0', interface: undefined });
    expect(linkFacts(net!.request, net!.placement)).toMatchObject({ rwAddress: undefined, outputAddresses: [0x1_4010_1000n, 0x1_4018_0000n], bdf: '00:0d.0', interface: 'enp0s13' });
  });
});
