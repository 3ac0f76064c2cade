/**
 * The `type: ivshmem` Link fields Jailhouse takes: what the channel carries (protocol, the sizes of
 * its sections, the flags of its R/W section, MSI-X vectors) and where it may be pinned (PCI
 * address, memory). Pure: the Link kind's schema is built from it.
 */
import { z } from 'zod';
import { address, size } from '../../units/scalars.js';
import type { LinkTypeDefinition } from '../port.js';

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

export const ivshmemFields = {
  protocol: protocol.default(0),
  stateSize: size.prefault('4K').meta({ description: 'Size of the state table (default one page).' }),
  rwSize: size.prefault(0).meta({ description: 'Size of the R/W section every peer may write (default none).' }),
  rwFlags: z.array(z.string()).default([]).meta({ description: "Memory flags added to every peer's mapping of the R/W section (e.g. EXECUTE)." }),
  outputSize: size.prefault(0).meta({ description: "Size of each peer's output section (only its owner writes it)." }),
  msixVectors: z.number().int().min(0).max(16).optional().meta({ description: 'MSI-X vectors of the device (0: INTx). Default: 2 for veth and 1 otherwise on x86, INTx on ARM.' }),
  pci: pciAddress.optional(),
  address: address.optional().meta({ description: "Physical address of the link's memory (its state table); allocated from the hypervisor's linkPool when absent." }),
};

export type IvshmemFields = z.output<z.ZodObject<typeof ivshmemFields>>;

export const ivshmemLinkType: LinkTypeDefinition<typeof ivshmemFields> = {
  type: 'ivshmem',
  title: 'an ivshmem v2 shared-memory device (Jailhouse)',
  fields: ivshmemFields,
  // What the link is lives in the configurations generated from it: a change re-creates the cells
  // and re-enables the hypervisor through their own descriptions. The link itself only waits for
  // its device again, and takes the units that use its facts with it.
  changes: { protocol: 'restart', stateSize: 'restart', rwSize: 'restart', rwFlags: 'restart', outputSize: 'restart', msixVectors: 'restart', pci: 'restart', address: 'restart' },
  // A R/W section only when it has a size; a Linux interface only for ivshmem-net (veth).
  facts: (l) => ['address', 'stateAddress', ...(l.rwSize > 0n ? ['rwAddress'] : []), 'pci', ...(l.protocol === LINK_PROTOCOLS.veth ? ['interface'] : [])],
};
