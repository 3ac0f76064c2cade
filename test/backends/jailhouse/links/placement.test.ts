import { describe, expect, it } from 'vitest';
import { placeLinks, type LinkPlacement } from '../../../../src/backends/jailhouse/links/index.js';
import { KiB, link, MiB } from './helpers.js';

const POOL = { start: 0x1_0000_0000n, size: 16n * MiB };
const addresses = (r: ReturnType<typeof placeLinks>): Record<string, bigint> => Object.fromEntries([...r.placements].map(([id, p]) => [id, p.address]));

describe('placeLinks: memory', () => {
  it('places the largest first, each at the next MiB, ties by id, whatever the order of the requests', () => {
    const links = [link('small.link'), link('big.link', { rwSize: 3n * MiB }), link('b.link'), link('a.link')];
    const expected = {
      'big.link': POOL.start, // 4K + 3M + 2 × 4K
      'a.link': POOL.start + 4n * MiB,
      'b.link': POOL.start + 5n * MiB,
      'small.link': POOL.start + 6n * MiB,
    };
    expect(addresses(placeLinks({ pool: POOL, links }))).toEqual(expected);
    expect(addresses(placeLinks({ pool: POOL, links: [...links].reverse() }))).toEqual(expected);
  });

  it('records each window as state + r/w + peers × output, each rounded up to the page', () => {
    const three = link('x.link', { peers: [{}, { cell: 'a.cell' }, { cell: 'b.cell' }], stateSize: 100n, rwSize: 5000n, outputSize: 1n });
    expect(placeLinks({ pool: POOL, links: [three] }).placements.get('x.link')).toMatchObject({ footprint: 4n * KiB + 8n * KiB + 3n * 4n * KiB });
  });

  it('packs windows as tightly as the pool alignment allows', () => {
    const r = placeLinks({ pool: { ...POOL, align: 4n * KiB }, links: [link('a.link'), link('b.link')] });
    expect(addresses(r)).toEqual({ 'a.link': POOL.start, 'b.link': POOL.start + 12n * KiB });
  });

  it('aligns to absolute addresses when the pool itself is not aligned', () => {
    const r = placeLinks({ pool: { start: 0x1_0000_3000n, size: 4n * MiB }, links: [link('a.link')] });
    expect(addresses(r)).toEqual({ 'a.link': 0x1_0010_0000n });
  });

  it('takes a pinned window as given and fills the others around it', () => {
    const r = placeLinks({ pool: POOL, links: [link('pinned.link', { address: POOL.start + 0x2000n }), link('free.link', { rwSize: 2n * MiB })] });
    expect(r.findings).toEqual([]);
    expect(addresses(r)).toEqual({ 'pinned.link': POOL.start + 0x2000n, 'free.link': POOL.start + MiB });
  });

  it('refuses a pinned address off the page, with both page-aligned neighbours in the hint', () => {
    const r = placeLinks({ pool: POOL, links: [link('a.link', { address: POOL.start + 0x1234n })] });
    expect(r.placements.size).toBe(0);
    expect(r.findings).toEqual([
      expect.objectContaining({ link: 'a.link', field: ['address'], code: 'CELLCFG_LINK_ADDRESS', severity: 'error', message: 'address 0x100001234 is not a multiple of the 4 KiB page', hint: expect.stringContaining('0x100001000 or 0x100002000') }),
    ]);
  });

  it('refuses a pinned window that runs out of the pool, naming the window and the pool', () => {
    const r = placeLinks({ pool: POOL, links: [link('a.link', { address: POOL.start + 16n * MiB - 0x2000n })] });
    expect(r.findings).toEqual([expect.objectContaining({ code: 'CELLCFG_LINK_ADDRESS', message: 'the window 0x100ffe000..0x101001000 (12K) is not inside the link pool 0x100000000..0x101000000' })]);
  });

  it('refuses the second of two overlapping pinned windows (by address, then id) and names the first', () => {
    const r = placeLinks({ pool: POOL, links: [link('late.link', { address: POOL.start + 0x1000n }), link('early.link', { address: POOL.start })] });
    expect(addresses(r)).toEqual({ 'early.link': POOL.start });
    expect(r.findings).toEqual([expect.objectContaining({ link: 'late.link', code: 'CELLCFG_LINK_ADDRESS', message: 'the window 0x100001000..0x100004000 overlaps link early.link at 0x100000000..0x100003000' })]);
  });

  it('reports a link that does not fit with what it needs, the pool and the largest free piece, and places the others', () => {
    const links = [link('huge.link', { rwSize: 15n * MiB }), link('other.link', { address: POOL.start + 8n * MiB })];
    const r = placeLinks({ pool: POOL, links });
    expect(addresses(r)).toEqual({ 'other.link': POOL.start + 8n * MiB });
    expect(r.findings).toEqual([
      {
        link: 'huge.link',
        field: [],
        code: 'CELLCFG_LINK_POOL_FULL',
        severity: 'error',
        message: 'the link needs 0xf03000 bytes (state 4K + r/w 15M + 2 × output 4K), but the link pool 0x100000000..0x101000000 (16M) has at most 8M free in one piece aligned to 1M',
        hint: expect.stringContaining('make the pool larger'),
      },
    ]);
  });

  it('gives an empty link one page, as the hypervisor maps the state table anyway', () => {
    const r = placeLinks({ pool: { ...POOL, align: 4n * KiB }, links: [link('a.link', { stateSize: 0n, outputSize: 0n }), link('b.link')] });
    expect(r.placements.get('a.link')).toMatchObject({ footprint: 4n * KiB });
    expect(new Set(Object.values(addresses(r))).size).toBe(2);
  });
});

describe('placeLinks: stability with previous', () => {
  const links = [link('a.link', { rwSize: 1n * MiB }), link('b.link', { rwSize: 1n * MiB }), link('c.link', { rwSize: 1n * MiB })];
  const first = placeLinks({ pool: POOL, links });

  it('keeps every link where it was, even where a fresh placement would put it elsewhere', () => {
    const previous = new Map<string, LinkPlacement>([...first.placements].map(([id, p]) => [id, { ...p, address: p.address + 8n * MiB }]));
    expect(addresses(placeLinks({ pool: POOL, links, previous }))).toEqual(Object.fromEntries([...previous].map(([id, p]) => [id, p.address])));
  });

  it('moves only a link that grew into its neighbour', () => {
    const grown = links.map((l) => (l.id === 'a.link' ? { ...l, rwSize: 2n * MiB } : l));
    const r = placeLinks({ pool: POOL, links: grown, previous: first.placements });
    const before = addresses(first);
    const after = addresses(r);
    expect(after['b.link']).toBe(before['b.link']);
    expect(after['c.link']).toBe(before['c.link']);
    expect(after['a.link']).not.toBe(before['a.link']);
  });

  it('keeps a grown link in place while the space after it is free', () => {
    const r = placeLinks({ pool: POOL, links: [{ ...links[2]!, rwSize: 2n * MiB }], previous: first.placements });
    expect(addresses(r)).toEqual({ 'c.link': addresses(first)['c.link'] });
  });

  it('re-places a link whose previous window is no longer in the pool', () => {
    const r = placeLinks({ pool: { start: POOL.start, size: 4n * MiB }, links: [links[2]!], previous: new Map([['c.link', { address: POOL.start + 12n * MiB, bdf: 0, footprint: 0x10_3000n }]]) });
    expect(addresses(r)).toEqual({ 'c.link': POOL.start });
  });
});

describe('placeLinks: pinned windows with previous', () => {
  it('reports the pinned link that grew into another, not the one that stayed', () => {
    const links = [link('low.link', { address: POOL.start }), link('high.link', { address: POOL.start + 0x3000n })];
    const first = placeLinks({ pool: POOL, links });
    expect(first.findings).toEqual([]);
    const grown = [{ ...links[0]!, rwSize: 0x1000n }, links[1]!];
    const r = placeLinks({ pool: POOL, links: grown, previous: first.placements });
    expect(addresses(r)).toEqual({ 'high.link': POOL.start + 0x3000n });
    expect(r.findings.map((f) => [f.link, f.code])).toEqual([['low.link', 'CELLCFG_LINK_ADDRESS']]);
  });
});
