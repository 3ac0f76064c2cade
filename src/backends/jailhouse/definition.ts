/**
 * Jailhouse as a unit file names it: `type: jailhouse`, its driver loaded, then `jailhouse enable`
 * with a system configuration. Pure: `validate` and crtosctl load it; the cells' configurations are
 * checked by check-cells.ts, loaded only when a set has cells.
 */
import { z } from 'zod';
import { unitId } from '../../kinds/spec-common.js';
import { address, duration, machinePath, size } from '../../units/scalars.js';
import type { BackendDefinition, HypervisorUnit } from '../port.js';
import { ivshmemLinkType } from './link-fields.js';
import { systemDescriptionSchema } from '../../jailhouse/description.js';
import type { SystemConfig } from '../../jailhouse/types.js';
import { standIn } from '../../units/schema-walk.js';

/**
 * `system` written as a mapping: the description `crtosctl cell-config show` prints for a system
 * configuration, `kind: system` implied. Checked against the description schema only when one is
 * given (its issues keep their paths under `system`); hints and the JSON Schema see the real one.
 */
const inlineSystem = standIn(
  z.looseObject({}).transform((value, ctx): SystemConfig => {
    const parsed = systemDescriptionSchema.safeParse({ kind: 'system', ...value });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0] & object);
    return z.NEVER;
  }),
  () => systemDescriptionSchema,
);

export const jailhouseFields = {
  driver: z.string().optional().meta({ description: 'Name of the Driver unit that loads jailhouse.ko; implies requires and after.' }),
  system: z.union([machinePath, inlineSystem]).meta({
    description:
      'The system configuration `jailhouse enable` takes: the path of a .cell file (as `jailhouse config create` made it), or the configuration written inline (as `crtosctl cell-config show` prints it); Link units whose peer is the root cell are added to it.',
  }),
  arch: z
    .enum(['x86', 'arm', 'arm64'])
    .optional()
    .meta({
      description:
        "Architecture of the configurations, for a revision 12 or 13 system configuration whose bytes do not tell it (revision 14 records it). Default: read from the system configuration; `crtosctl cell-config show` says whether it can be.",
    }),
  linkPool: z
    .strictObject({
      start: address.meta({ description: 'Physical address of the pool.' }),
      size: size.meta({ description: 'Its size.' }),
      align: size.prefault('1M').meta({ description: "Alignment of each link's memory (default 1M, as upstream's ivshmem-net windows)." }),
    })
    .optional()
    .meta({
      description:
        'The memory Link units are carved from: the inmate memory `jailhouse config create --mem-inmates` reserves (and the kernel command line keeps from Linux with memmap=). The base system configuration must not map it.',
    }),
  timeout: duration.prefault(30).meta({ description: 'Timeout of enable and disable (default 30s).' }),
};

export type JailhouseFields = z.output<z.ZodObject<typeof jailhouseFields>>;

/** The decode option for a configuration of this hypervisor: its written architecture, or none (read from the file). */
export const archOption = (spec: Pick<JailhouseFields, 'arch'>): { arch?: 'x86' | 'arm' | 'arm64' } => (spec.arch ? { arch: spec.arch } : {});

/** How messages name a hypervisor's system configuration: its path, or that it is written inline. */
export const systemLabel = (spec: Pick<JailhouseFields, 'system'>): string => (typeof spec.system === 'string' ? spec.system : 'the inline system configuration');

/** The hint for a revision 12/13 file whose architecture its bytes do not tell. */
export const ARCH_HINT = 'write `arch: x86`, `arm` or `arm64` in the Hypervisor unit: revision 12 and 13 files do not record it, and this one does not tell';
export type JailhouseHypervisor = HypervisorUnit<JailhouseFields>;

export const jailhouseDefinition: BackendDefinition<typeof jailhouseFields> = {
  type: 'jailhouse',
  title: 'Jailhouse',
  fields: jailhouseFields,
  references: (h) => (h.driver ? [{ field: 'driver', target: unitId(h.driver, 'Driver') }] : []),
  files: (h) => (typeof h.system === 'string' ? [{ field: 'system', path: h.system }] : []),
  // `links` is no field of the unit: its description's digest of the links the root cell carries.
  changes: { driver: 're-enable', system: 're-enable', arch: 're-enable', linkPool: 'none', links: 're-enable', timeout: 'none' } as BackendDefinition<typeof jailhouseFields>['changes'],
  checkCells: async (ctx, hv, cells) => (await import('./check-cells.js')).checkCells(ctx, hv as JailhouseHypervisor, cells),
  links: {
    types: [ivshmemLinkType],
    check: async (ctx, hv, links) => (await import('./check-links.js')).checkLinks(ctx, hv as JailhouseHypervisor, links),
  },
};
