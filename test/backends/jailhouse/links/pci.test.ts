import { describe, expect, it } from 'vitest';
import { allocateBdfs, placeLinks } from '../../../../src/backends/jailhouse/links/index.js';
import { link } from './helpers.js';

const bdf = (bus: number, dev: number, fn = 0): number => (bus << 8) | (dev << 3) | fn;
const NONE = new Map<string, { bdf: number }>();

describe('allocateBdfs', () => {
  it('gives the lowest free device slot on bus 0, function 0, in id order', () => {
    const r = allocateBdfs([link('b.link'), link('a.link'), link('c.link', { bdf: bdf(0, 1) })], [], NONE);
    expect(Object.fromEntries(r.bdfs)).toEqual({ 'a.link': bdf(0, 0), 'b.link': bdf(0, 2), 'c.link': bdf(0, 1) });
    expect(r.findings).toEqual([]);
  });

  it("skips every slot a device of a peer's base configuration uses, any function of it", () => {
    const used = [
      { cell: undefined, bdf: bdf(0, 0) },
      { cell: undefined, bdf: bdf(0, 1, 3) },
      { cell: 'other.cell', bdf: bdf(0, 2) },
    ];
    const r = allocateBdfs([link('root.link'), link('cells.link', { peers: [{ cell: 'a.cell' }, { cell: 'b.cell' }] })], used, NONE);
    // root.link has the root cell as a peer: slots 0 and 1 are busy; cells.link has no such peer, and other.cell is none of its peers.
    expect(Object.fromEntries(r.bdfs)).toEqual({ 'cells.link': bdf(0, 0), 'root.link': bdf(0, 2) });
  });

  it('refuses the second of two links pinned to one address (by id), naming the first', () => {
    const r = allocateBdfs([link('b.link', { bdf: bdf(0, 0xe) }), link('a.link', { bdf: bdf(0, 0xe) })], [], NONE);
    expect(Object.fromEntries(r.bdfs)).toEqual({ 'a.link': bdf(0, 0xe) });
    expect(r.findings).toEqual([expect.objectContaining({ link: 'b.link', field: ['pci'], code: 'CELLCFG_LINK_PCI_TAKEN', severity: 'error', message: expect.stringContaining('PCI address 00:0e.0 is also pinned by link a.link') })]);
  });

  it("refuses a pin on the address of a device in a peer's base configuration, naming the peer", () => {
    const r = allocateBdfs([link('a.link', { bdf: bdf(0, 0x1f, 2) })], [{ cell: 'a.cell', bdf: bdf(0, 0x1f, 2) }], NONE);
    expect(r.bdfs.size).toBe(0);
    expect(r.findings).toEqual([expect.objectContaining({ code: 'CELLCFG_LINK_PCI_TAKEN', message: 'PCI address 00:1f.2 is the address of a device in the configuration of a.cell, a peer of this link' })]);
  });

  it('keeps a previous address while it is free; a new pin on it moves the link that had it', () => {
    const previous = new Map([
      ['a.link', { bdf: bdf(0, 7) }],
      ['b.link', { bdf: bdf(0, 9) }],
    ]);
    const r = allocateBdfs([link('a.link'), link('b.link'), link('new.link', { bdf: bdf(0, 9) })], [], previous);
    expect(Object.fromEntries(r.bdfs)).toEqual({ 'a.link': bdf(0, 7), 'b.link': bdf(0, 0), 'new.link': bdf(0, 9) });
  });

  it('reports a link for which no slot on bus 0 is left', () => {
    const links = Array.from({ length: 33 }, (_, i) => link(`l${String(i).padStart(2, '0')}.link`));
    const r = allocateBdfs(links, [], NONE);
    expect(r.bdfs.size).toBe(32);
    expect(r.findings).toEqual([expect.objectContaining({ link: 'l32.link', field: ['pci'], code: 'CELLCFG_LINK_PCI_FULL' })]);
  });
});

describe('placeLinks: PCI addresses', () => {
  it('gives every placed link its bdf, and no placement to a link without one', () => {
    const pool = { start: 0x1_0000_0000n, size: 0x100_0000n };
    const r = placeLinks({ pool, links: [link('a.link', { bdf: 0x70 }), link('b.link', { bdf: 0x70 })], usedBdfs: [] });
    expect([...r.placements.keys()]).toEqual(['a.link']);
    expect(r.placements.get('a.link')!.bdf).toBe(0x70);
    expect(r.findings.map((f) => [f.link, f.code])).toEqual([['b.link', 'CELLCFG_LINK_PCI_TAKEN']]);
  });
});
