/** Network: addresses on a Linux interface (the ivshmem-net link to a cell), and the link up. */
import { z } from 'zod';
import { commonFields, defineKind, unitId, COMMON_CHANGES, RETRY_CHANGES, retryFields } from '../spec-common.js';
import { cidr, duration } from '../../units/scalars.js';

export const networkSchema = z
  .strictObject({
    kind: z.literal('Network'),
    ...commonFields,
    interface: z
      .union([
        z.string().regex(/^[^\s/:]{1,15}$/, { message: 'must be an interface name of at most 15 characters, without "/", ":" or spaces' }),
        z.strictObject({
          link: z.string().meta({ description: 'Name of a veth Link unit; implies requires and after.' }),
          fact: z.literal('interface').default('interface').meta({ description: 'What it takes of the link: its interface (the default).' }),
        }),
      ])
      .meta({ description: 'The Linux interface, e.g. enp0s13, or `{ link: NAME }`: the interface a veth link\'s device becomes.' }),
    address: z
      .union([cidr, z.array(cidr)])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .default([])
      .meta({ description: 'Address(es) with prefix length to add, e.g. "172.16.0.1/24".' }),
    up: z.boolean().default(true).meta({ description: 'Set the link up (default true).' }),
    timeout: duration.prefault(10).meta({ description: 'How long to wait for the interface to appear (default 10s).' }),
    ...retryFields,
  })
  .meta({ title: 'Network', description: 'Addresses on a Linux network interface, and its link up.' });

export type NetworkSpec = z.output<typeof networkSchema>;

export const networkDefinition = defineKind({
  kind: 'Network',
  summary: 'Addresses on a Linux interface',
  schema: networkSchema,
  references: (n) => (typeof n.interface === 'string' ? [] : [{ field: 'interface', target: unitId(n.interface.link, 'Link') }]),
  files: () => [],
  changes: { ...COMMON_CHANGES, interface: 'restart', address: 'restart', up: 'restart', timeout: 'none', ...RETRY_CHANGES },
});
