/**
 * Link: a channel between partitions, described once (Jailhouse: an ivshmem v2 device between the
 * root cell and a cell, or between cells). Its `type:` names what kind of channel, and its
 * hypervisor's backend makes that type (its fields are the backend's, as a Hypervisor's are):
 * Jailhouse places an ivshmem link (memory from the pool the Hypervisor unit names, a PCI address)
 * and writes both sides into the configurations it generates. Other units refer to what the
 * backend decided (`{ link: shadow, fact: rwAddress }`) instead of repeating it. Pure: the
 * backends' generation and checks live in their folders.
 */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES, unitId, type UnitReference } from '../spec-common.js';
import { address, duration } from '../../units/scalars.js';
// The registry alone: the backends register their definitions (src/backends/definitions.ts, loaded
// by the Hypervisor kind) before any unit is parsed, and importing them here would be a cycle.
import { backendDefinitions, backendGeneration } from '../../backends/registry.js';
import type { LinkTypeDefinition } from '../../backends/port.js';
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

/** The Link kind's own fields, whatever its type; each backend's link type adds its own (port.ts). */
const linkCommon = {
  hypervisor: z.string().meta({ description: 'Name of the Hypervisor unit whose partitions the link connects; implies requires and after.' }),
  peers: z.array(linkPeer).min(2).meta({ description: `The peers, in peer-id order (the first is id 0): '${ROOT_PEER}' or Cell unit names.` }),
  timeout: duration.prefault(10).meta({ description: 'How long to wait for the link to come up (its device in the root cell, its channel announced; default 10s).' }),
};

/** The link types of the registered backends, each once. */
function linkTypes(): LinkTypeDefinition[] {
  const seen = new Map<string, LinkTypeDefinition>();
  for (const def of backendDefinitions()) for (const t of def.links?.types ?? []) if (!seen.has(t.type)) seen.set(t.type, t);
  return [...seen.values()];
}

/** The definition of a link `type:` (the schema has checked it is one). */
export function linkTypeOf(type: string): LinkTypeDefinition | undefined {
  return linkTypes().find((t) => t.type === type);
}

const variant = (t: LinkTypeDefinition) =>
  z.strictObject({ kind: z.literal('Link'), ...commonFields, type: z.literal(t.type).meta({ description: t.title }), ...linkCommon, ...t.fields });

let built: { generation: number; schema: z.ZodType } | undefined;

/** One variant per link type the registered backends make, rebuilt when a backend is registered. */
export function linkSchema(): z.ZodType {
  if (built?.generation !== backendGeneration()) {
    const types = linkTypes();
    const variants = types.map(variant) as [ReturnType<typeof variant>, ...ReturnType<typeof variant>[]];
    built = {
      generation: backendGeneration(),
      schema: z.discriminatedUnion('type', variants).meta({ title: 'Link', description: `A channel between partitions, described once: ${types.map((t) => `${t.type} (${t.title})`).join(', ')}.` }),
    };
  }
  return built.schema;
}

/** What every Link unit has; its type's fields are read by its backend. */
export type LinkSpec = z.output<z.ZodObject<typeof commonFields>> & { kind: 'Link'; type: string; hypervisor: string; peers: z.output<typeof linkPeer>[]; timeout: number };
export type LinkPeer = LinkSpec['peers'][number];

/** `{ link: shadow, fact: rwAddress }`: a value another unit takes from a link (and a dependency on it). */
export const linkFactRef = z
  .strictObject({
    link: z.string().meta({ description: 'Name of the Link unit; implies requires and after.' }),
    fact: z
      .string()
      .regex(/^[a-z][A-Za-z]*$/, { message: 'must be the name of a fact the link has, such as rwAddress' })
      .meta({ description: "What to take: one of the facts its type gives (ivshmem: address, stateAddress, rwAddress, pci, interface); `crtosctl validate` says which." }),
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

export const linkDefinition = defineKind({
  kind: 'Link',
  summary: 'A channel between partitions, both sides generated',
  get schema() {
    return linkSchema();
  },
  references: (l) => [
    { field: 'hypervisor', target: unitId((l as LinkSpec).hypervisor, 'Hypervisor') },
    // The cells it connects must exist; it does not go down with them (its device is the root cell's).
    ...(l as LinkSpec).peers.flatMap((p, i) => (p.cell === ROOT_PEER ? [] : [{ field: `peers.${i}`, target: unitId(p.cell, 'Cell'), dependency: false as const }])),
  ],
  files: () => [],
  provides: (l) => linkTypeOf((l as LinkSpec).type)?.provides?.(l as never) ?? [],
  // Its type's fields change what the backend generates or watches: the link itself is restarted
  // (it waits for itself again), with the units that take its facts.
  get changes() {
    return { ...COMMON_CHANGES, hypervisor: 'restart' as const, type: 'restart' as const, peers: 'restart' as const, timeout: 'none' as const, ...Object.assign({}, ...linkTypes().map((t) => t.changes)) };
  },
  checkSet: async (ctx, units) => (await import('./check.js')).checkLinks(ctx, units),
});
