import { describe, expect, it } from 'vitest';
import { linkFacts, predictableIfname } from '../../../../src/backends/jailhouse/links/index.js';
import { KiB, link } from './helpers.js';

describe('predictableIfname', () => {
  it('names a device by its PCI path as udev does', () => {
    expect(predictableIfname((0x0d << 3) | 0)).toBe('enp0s13');
    expect(predictableIfname((1 << 8) | (0x0f << 3))).toBe('enp1s15');
    expect(predictableIfname((0x02 << 3) | 3)).toBe('enp0s2f3');
    expect(predictableIfname(0x01 << 3, 1)).toBe('enP1p0s1');
  });
});

describe('linkFacts', () => {
  const placement = { address: 0x1_0000_0000n, bdf: 0x0e << 3, footprint: 0n };

  it('gives the physical address of every section, sizes rounded to the page, and the bdf', () => {
    const l = link('x.link', { peers: [{}, { cell: 'a.cell' }, { cell: 'b.cell' }], stateSize: 4n * KiB, rwSize: 6n * KiB, outputSize: 4n * KiB });
    expect(linkFacts(l, placement)).toEqual({
      stateAddress: 0x1_0000_0000n,
      rwAddress: 0x1_0000_1000n,
      outputAddresses: [0x1_0000_3000n, 0x1_0000_4000n, 0x1_0000_5000n],
      stateSize: 0x1000n,
      rwSize: 0x2000n,
      outputSize: 0x1000n,
      bdf: '00:0e.0',
      interface: undefined,
    });
  });

  it('has no r/w or output address for sections the link does not have', () => {
    expect(linkFacts(link('x.link', { outputSize: 0n }), placement)).toMatchObject({ rwAddress: undefined, outputAddresses: [] });
  });

  it("names the interface of an ivshmem-net link's device, in the given PCI domain", () => {
    const net = link('net.link', { protocol: 1, outputSize: 508n * KiB });
    expect(linkFacts(net, { ...placement, bdf: 0x0d << 3 }).interface).toBe('enp0s13');
    expect(linkFacts(net, { ...placement, bdf: 0x01 << 3 }, { domain: 1 }).interface).toBe('enP1p0s1');
  });
});
