/**
 * Hypervisor: the partitioning layer. Jailhouse: its driver loaded, then `jailhouse enable` with a
 * system configuration. RTMux: the RT domain starts when rtvmm.ko loads and reads /vmm/rtos.bin, so
 * the unit places its image there and then loads the module itself.
 */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES, RETRY_CHANGES, retryFields, unitId } from '../spec-common.js';
import { machinePath, duration } from '../../units/scalars.js';
import { moduleParameters } from '../driver/spec.js';
import type { Unit, UnitOf } from '../../units/types.js';

const jailhouse = z.strictObject({
  kind: z.literal('Hypervisor'),
  ...commonFields,
  type: z.literal('jailhouse'),
  driver: z.string().optional().meta({ description: 'Name of the Driver unit that loads jailhouse.ko; implies requires and after.' }),
  system: machinePath.meta({ description: 'The system configuration (.cell) passed to `jailhouse enable`.' }),
  arch: z
    .enum(['x86', 'arm', 'arm64'])
    .default('x86')
    .meta({ description: 'Architecture of the configurations (revisions 12 and 13 do not record it; default x86).' }),
  timeout: duration.prefault(30).meta({ description: 'Timeout of enable and disable (default 30s).' }),
  ...retryFields,
});

const rtmux = z.strictObject({
  kind: z.literal('Hypervisor'),
  ...commonFields,
  type: z.literal('rtmux'),
  module: machinePath.meta({ description: 'Path of rtvmm.ko; loading it starts the RT domain.' }),
  parameters: moduleParameters,
  image: z.string().meta({ description: 'Name of the Image unit placed at imagePath before the module loads.' }),
  imagePath: machinePath.default('/vmm/rtos.bin').meta({ description: 'Where rtvmm.ko reads the RTOS image (hard-coded upstream).' }),
  timeout: duration.prefault(30).meta({ description: 'Timeout of loading and unloading the module (default 30s).' }),
  ...retryFields,
});

export const hypervisorSchema = z
  .discriminatedUnion('type', [jailhouse, rtmux])
  .meta({ title: 'Hypervisor', description: 'The partitioning hypervisor: Jailhouse or RTMux.' });

export type HypervisorSpec = z.output<typeof hypervisorSchema>;
export type JailhouseHypervisorSpec = z.output<typeof jailhouse>;
export type RtmuxHypervisorSpec = z.output<typeof rtmux>;

/** A Hypervisor unit of type jailhouse. */
export type JailhouseHypervisorUnit = UnitOf<'Hypervisor'> & { spec: JailhouseHypervisorSpec };

/**
 * The unit as a Jailhouse hypervisor, undefined for a unit of another kind or type (or none): how
 * the cells that name it learn the system configuration they must fit.
 */
export function jailhouseHypervisorOf(unit: Unit | undefined): JailhouseHypervisorUnit | undefined {
  if (unit?.kind !== 'Hypervisor') return undefined;
  const hv = unit as UnitOf<'Hypervisor'>;
  return hv.spec.type === 'jailhouse' ? (hv as JailhouseHypervisorUnit) : undefined;
}

export const hypervisorDefinition = defineKind({
  kind: 'Hypervisor',
  summary: 'The partitioning hypervisor (Jailhouse, RTMux)',
  schema: hypervisorSchema,
  references: (h) =>
    h.type === 'jailhouse'
      ? h.driver
        ? [{ field: 'driver', target: unitId(h.driver, 'Driver') }]
        : []
      : [{ field: 'image', target: unitId(h.image, 'Image') }],
  files: (h) => (h.type === 'jailhouse' ? [{ field: 'system', path: h.system }] : [{ field: 'module', path: h.module }]),
  onePerMachine: { hint: 'a machine runs one hypervisor; keep one Hypervisor unit (load the other deployment on its own machine)' },
  changes: {
    ...COMMON_CHANGES,
    type: 're-enable',
    driver: 're-enable',
    system: 're-enable',
    arch: 're-enable',
    module: 're-enable',
    parameters: 're-enable',
    image: 're-enable',
    imagePath: 're-enable',
    timeout: 'none',
    ...RETRY_CHANGES,
  },
});
