/**
 * Link: a channel between partitions, described once (an ivshmem v2 device between the root cell
 * and a cell, or between cells). Its hypervisor's backend places it (memory from the pool the
 * Hypervisor unit names, a PCI address) and writes both sides into the configurations it
 * generates; other units refer to what that placement decided (`{ link: shadow, fact: rwAddress }`)
 * instead of repeating it. Pure: the backend's generation and checks live in its folder.
 */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES, unitId, type UnitReference } from '../spec-common.js';
import { address, duration, size } from '../../units/scalars.js';
import type { UnitOf, UnitSet } from '../../units/types.js';

/** The peer name that stands for the root cell (Linux): not a Cell unit. */
export const ROOT_PEER = 'root';

const peerName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/, { message: `must be '${ROOT_PEER}' (the root cell) or the name of a Cell unit` });

const peerObject = z.strictObject({
  cell: peerName.meta({ description: `The Cell unit's name, or '${ROOT_PEER}' for the root cell.` }),
  virtStart: address.optional().meta({ description: "Guest address of this peer's window (its state table; the sections follow). Default: the physical address." }),
  rw: z
    .strictObject({
      virtStart: address.optional().meta({ description: 'Guest address of the R/W section in this peer (cRTOS: 0x0, the RTOS runs from it).' }),
      flags: z.array(z.string()).default([]).meta({ description: 'Memory flags added to this peer\'s R/W mapping (e.g. LOADABLE).' }),
    })
    .optional()
    .meta({ description: "This peer's own mapping of the R/W section." }),
});

export const linkPeer = z
  .union([peerName, peerObject])
  .transform((p) => (typeof p === 'string' ? { cell: p } : p))
  .meta({ description: `A peer: '${ROOT_PEER}', a Cell unit's name, or { cell, virtStart, rw } to map it differently.` });

/** ivshmem protocols by name (reference/ivshmem.md §2), besides any 16-bit number. */
export const LINK_PROTOCOLS: Readonly<Record<string, number>> = {
  undefined: 0x0000,
  veth: 0x0001,
  'virtio-net-front': 0x8001,
  'virtio-block-front': 0x8002,
  'virtio-console-front': 0x8003,
  'virtio-net-back': 0xc001,
  'virtio-block-back': 0xc002,
  'virtio-console-back': 0xc003,
};

const protocol = z
  .union([z.number().int().min(0).max(0xffff), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const named = LINK_PROTOCOLS[v];
    if (named !== undefined) return named;
    if (/^0x[0-9a-f]{1,4}$/i.test(v)) return Number(v);
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a protocol; write ${Object.keys(LINK_PROTOCOLS).join(', ')} or a 16-bit number such as 0x0002` });
    return z.NEVER;
  })
  .meta({ description: 'The ivshmem protocol the drivers bind by: veth (ivshmem-net), undefined (uio), a virtio front/back end, or a number (cRTOS shadow: 0x0002).' });

const pciAddress = z
  .string()
  .regex(/^[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/i, { message: 'must be a PCI address bus:device.function such as "00:0e.0" (device 00-1f, function 0-7)' })
  .meta({ description: 'The PCI address every peer sees the device at; allocated when absent.' });

export const linkSchema = z
  .strictObject({
    kind: z.literal('Link'),
    ...commonFields,
    hypervisor: z.string().meta({ description: 'Name of the Hypervisor unit whose partitions the link connects; implies requires and after.' }),
    type: z.enum(['ivshmem']).default('ivshmem').meta({ description: 'The kind of channel: ivshmem (a shared-memory PCI device, ivshmem v2).' }),
    peers: z.array(linkPeer).min(2).meta({ description: `The peers, in peer-id order (the first is id 0): '${ROOT_PEER}' or Cell unit names.` }),
    protocol: protocol.default(0),
    stateSize: size.prefault('4K').meta({ description: 'Size of the state table (default one page).' }),
    rwSize: size.prefault(0).meta({ description: 'Size of the R/W section every peer may write (default none).' }),
    rwFlags: z.array(z.string()).default([]).meta({ description: 'Memory flags added to every peer\'s mapping of the R/W section (e.g. EXECUTE).' }),
    outputSize: size.prefault(0).meta({ description: 'Size of each peer\'s output section (only its owner writes it).' }),
    msixVectors: z.number().int().min(0).max(16).optional().meta({ description: 'MSI-X vectors of the device (0: INTx). Default: 2 for veth and 1 otherwise on x86, INTx on ARM.' }),
    pci: pciAddress.optional(),
    address: address.optional().meta({ description: 'Physical address of the link\'s memory (its state table); allocated from the hypervisor\'s linkPool when absent.' }),
    timeout: duration.prefault(10).meta({ description: 'How long to wait for the device to appear in the root cell (default 10s).' }),
  })
  .meta({ title: 'Link', description: 'A channel between partitions (ivshmem), described once: both sides are generated.' });

export type LinkSpec = z.output<typeof linkSchema>;
export type LinkPeer = LinkSpec['peers'][number];

/** What other units may take from a link's placement. */
export const LINK_FACTS = ['address', 'stateAddress', 'rwAddress', 'pci', 'interface'] as const;
export type LinkFactName = (typeof LINK_FACTS)[number];

/** `{ link: shadow, fact: rwAddress }`: a value another unit takes from a link (and a dependency on it). */
export const linkFactRef = z
  .strictObject({
    link: z.string().meta({ description: 'Name of the Link unit; implies requires and after.' }),
    fact: z.enum(LINK_FACTS).meta({ description: 'address (its memory), stateAddress, rwAddress (the R/W section), pci (bus:dev.fn) or interface (the network interface its device becomes).' }),
  })
  .meta({ description: "A value taken from a Link unit's placement." });
export type LinkFactRef = z.output<typeof linkFactRef>;

export function isLinkFactRef(v: unknown): v is LinkFactRef {
  return typeof v === 'object' && v !== null && 'link' in v && 'fact' in v;
}

/** The references of the link-fact values of a record field (`parameters.shmaddr` → shadow.link). */
export function linkReferences(field: string, values: Readonly<Record<string, unknown>>): UnitReference[] {
  return Object.entries(values).flatMap(([k, v]) => (isLinkFactRef(v) ? [{ field: `${field}.${k}`, target: unitId(v.link, 'Link') }] : []));
}

/** The Link units of a set that connect partitions of hypervisor `hvId`, in id order. */
export function linksOfHypervisor(set: UnitSet, hvId: string): UnitOf<'Link'>[] {
  return [...set.units.values()]
    .filter((u): u is UnitOf<'Link'> => u.kind === 'Link' && unitId((u as UnitOf<'Link'>).spec.hypervisor, 'Hypervisor') === hvId)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The Cell units a link connects (its peers but the root cell). */
export function linkCellPeers(spec: Pick<LinkSpec, 'peers'>): string[] {
  return spec.peers.filter((p) => p.cell !== ROOT_PEER).map((p) => unitId(p.cell, 'Cell'));
}

export const linkDefinition = defineKind({
  kind: 'Link',
  summary: 'A channel between partitions (ivshmem), both sides generated',
  schema: linkSchema,
  references: (l) => [
    { field: 'hypervisor', target: unitId(l.hypervisor, 'Hypervisor') },
    // The cells it connects must exist; it does not go down with them (its device is the root cell's).
    ...l.peers.flatMap((p, i) => (p.cell === ROOT_PEER ? [] : [{ field: `peers.${i}`, target: unitId(p.cell, 'Cell'), dependency: false as const }])),
  ],
  files: () => [],
  // What the link is lives in the configurations generated from it: a change re-creates the cells
  // and re-enables the hypervisor through their own descriptions. The link itself only waits for
  // its device again, and takes the units that use its facts with it.
  changes: {
    ...COMMON_CHANGES,
    hypervisor: 'restart',
    type: 'restart',
    peers: 'restart',
    protocol: 'restart',
    stateSize: 'restart',
    rwSize: 'restart',
    rwFlags: 'restart',
    outputSize: 'restart',
    msixVectors: 'restart',
    pci: 'restart',
    address: 'restart',
    timeout: 'none',
  },
  checkSet: async (ctx, units) => (await import('./check.js')).checkLinks(ctx, units),
});
