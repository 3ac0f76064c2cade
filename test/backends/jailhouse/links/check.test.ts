import { describe, expect, it } from 'vitest';
import { checkLinkRequest, type IvshmemLinkRequest } from '../../../../src/backends/jailhouse/links/index.js';
import { KiB, link } from './helpers.js';

const X86 = { arch: 'x86' } as const;
const ARM64 = { arch: 'arm64' } as const;
const found = (l: IvshmemLinkRequest, target: { arch: 'x86' | 'arm64' } = X86): [string, string, string][] =>
  checkLinkRequest(l, target).map((f) => [f.code, f.field.join('.'), f.severity]);

describe('checkLinkRequest', () => {
  it('finds nothing in a plain two-peer link on x86 and arm64', () => {
    expect(checkLinkRequest(link('a.link'), X86)).toEqual([]);
    expect(checkLinkRequest(link('a.link'), ARM64)).toEqual([]);
  });

  it('peers: fewer than 2, more than 12, a cell twice (the root cell too)', () => {
    expect(found(link('a.link', { peers: [{}] }))).toEqual([['CELLCFG_LINK_PEERS', 'peers', 'error']]);
    const thirteen = Array.from({ length: 13 }, (_, i) => ({ cell: `c${i}.cell` }));
    expect(checkLinkRequest(link('a.link', { peers: thirteen }), X86)).toEqual([expect.objectContaining({ code: 'CELLCFG_LINK_PEERS', message: expect.stringContaining('at most 12') })]);
    expect(found(link('a.link', { peers: [{}, { cell: 'a.cell' }, {}, { cell: 'a.cell' }] }))).toEqual([
      ['CELLCFG_LINK_PEERS', 'peers.2', 'error'],
      ['CELLCFG_LINK_PEERS', 'peers.3', 'error'],
    ]);
    expect(checkLinkRequest(link('a.link', { peers: [{}, { cell: 'a.cell' }, { cell: 'a.cell' }] }), X86)[0]!.message).toBe('peer 2 is a.cell, which is already peer 1');
  });

  it('vectors: more than 16; none on x86 (no INTx there); none is fine on arm64', () => {
    expect(found(link('a.link', { msixVectors: 17 }))).toEqual([['CELLCFG_LINK_VECTORS', 'msixVectors', 'error']]);
    expect(found(link('a.link', { msixVectors: 0 }))).toEqual([['CELLCFG_LINK_VECTORS', 'msixVectors', 'error']]);
    expect(found(link('a.link', { msixVectors: 0 }), ARM64)).toEqual([]);
  });

  it("veth: the Linux driver's probe fails with other than 2 peers, without output sections, or with 1 vector", () => {
    const veth = (over: Partial<IvshmemLinkRequest>): IvshmemLinkRequest => link('net.link', { protocol: 1, outputSize: 508n * KiB, ...over });
    expect(found(veth({}))).toEqual([]);
    expect(found(veth({}), ARM64)).toEqual([]);
    expect(found(veth({ peers: [{}, { cell: 'a.cell' }, { cell: 'b.cell' }] }))).toEqual([['CELLCFG_LINK_VETH', 'peers', 'error']]);
    expect(found(veth({ outputSize: 0n }))).toEqual([['CELLCFG_LINK_VETH', 'outputSize', 'error']]);
    expect(checkLinkRequest(veth({ outputSize: 0n }), X86)[0]!.message).toContain('Missing input/output sections');
    expect(found(veth({ msixVectors: 1 }))).toEqual([['CELLCFG_LINK_VETH', 'msixVectors', 'error']]);
    expect(found(veth({ msixVectors: 1 }), ARM64)).toEqual([['CELLCFG_LINK_VETH', 'msixVectors', 'error']]);
    expect(found(veth({ msixVectors: 0 }))).toEqual([['CELLCFG_LINK_VECTORS', 'msixVectors', 'error']]);
  });

  it('sizes: a state table of 0 is an error; sizes off the page are rounded up, with a warning that says to what', () => {
    expect(found(link('a.link', { stateSize: 0n }))).toEqual([['CELLCFG_LINK_SIZE', 'stateSize', 'error']]);
    const odd = checkLinkRequest(link('a.link', { rwSize: 0x1800n, outputSize: 100n }), X86);
    expect(odd.map((f) => [f.field.join('.'), f.severity, f.message])).toEqual([
      ['rwSize', 'warning', 'the r/w section size 0x1800 is not a multiple of the 4 KiB page; it is rounded up to 8K'],
      ['outputSize', 'warning', 'the output section size 0x64 is not a multiple of the 4 KiB page; it is rounded up to 4K'],
    ]);
  });

  it('mappings: guest addresses off the page, unknown flags, flags that would make the section something else', () => {
    const l = link('a.link', {
      rwSize: 8n * KiB,
      rwFlags: ['EXECUTE', 'EXCUTE'],
      peers: [{ virtStart: 0x1800n }, { cell: 'a.cell', rw: { virtStart: 0x10n, flags: ['LOADABLE', 'COMM_REGION'] } }],
    });
    expect(found(l)).toEqual([
      ['CELLCFG_LINK_MAPPING', 'rwFlags', 'error'],
      ['CELLCFG_LINK_MAPPING', 'peers.0.virtStart', 'error'],
      ['CELLCFG_LINK_MAPPING', 'peers.1.rw.virtStart', 'error'],
      ['CELLCFG_LINK_MAPPING', 'peers.1.rw.flags', 'error'],
    ]);
    expect(checkLinkRequest(l, X86)[0]!.message).toBe("'EXCUTE' is not a memory flag");
  });

  it('warns about a peer mapping the r/w section of a link that has none', () => {
    expect(found(link('a.link', { peers: [{}, { cell: 'a.cell', rw: { virtStart: 0n } }] }))).toEqual([['CELLCFG_LINK_MAPPING', 'peers.1.rw', 'warning']]);
  });

  it('values that do not fit their binary fields', () => {
    expect(found(link('a.link', { protocol: 0x10000 }))).toEqual([['CELLCFG_LINK_VALUE', 'protocol', 'error']]);
    expect(found(link('a.link', { bdf: 0x10000 }))).toEqual([['CELLCFG_LINK_VALUE', 'pci', 'error']]);
    expect(found(link('a.link', { barMask: [0xfffff000] }))).toEqual([['CELLCFG_LINK_VALUE', 'barMask', 'error']]);
  });

  it('names the link in every finding and gives a hint', () => {
    const list = checkLinkRequest(link('z.link', { peers: [], stateSize: 0n, msixVectors: 99, protocol: -1 }), X86);
    expect(list.map((f) => f.code)).toEqual(['CELLCFG_LINK_PEERS', 'CELLCFG_LINK_VECTORS', 'CELLCFG_LINK_SIZE', 'CELLCFG_LINK_VALUE']);
    for (const f of list) {
      expect(f.link).toBe('z.link');
      expect(f.hint.length).toBeGreaterThan(0);
    }
  });
});
