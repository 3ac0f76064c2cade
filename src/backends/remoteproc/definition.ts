/**
 * The kernel's remoteproc framework as a unit file names it: `type: remoteproc`. Linux itself runs
 * the remote processors (a Cortex-M next to the application cores); crtosd installs each cell's
 * firmware under a name of its own and drives the processor through sysfs. Pure: `validate` and
 * crtosctl load it; the cells' check is in check-cells.ts.
 */
import { z } from 'zod';
import { unitId } from '../../kinds/spec-common.js';
import { duration, machinePath } from '../../units/scalars.js';
import type { BackendDefinition, HypervisorUnit } from '../port.js';
import { rpmsgLinkType } from './link-fields.js';
import { standIn } from '../../units/schema-walk.js';

export const remoteprocFields = {
  driver: z
    .string()
    .optional()
    .meta({ description: 'Name of the Driver unit of the platform driver that registers the processors (imx_rproc, stm32_rproc); implies requires and after.' }),
  firmwareDir: machinePath
    .default('/lib/firmware')
    .meta({ description: 'A directory of the kernel\'s firmware search path, where crtosd installs each cell\'s firmware as crtos-<processor>.elf (default /lib/firmware).' }),
  timeout: duration.prefault(30).meta({ description: 'How long to wait for the remoteproc class to appear (default 30s).' }),
};

export type RemoteprocFields = z.output<z.ZodObject<typeof remoteprocFields>>;
export type RemoteprocHypervisor = HypervisorUnit<RemoteprocFields>;

/** A Cell's `config` on a remoteproc hypervisor: the processor it runs on, and the kernel's settings for it. */
export const remoteprocCellConfig = z
  .strictObject({
    processor: z
      .string()
      .regex(/^[^/\s]+$/, { message: 'must be the processor\'s name as /sys/class/remoteproc/remoteprocN/name reads (e.g. imx-rproc)' })
      .meta({ description: 'The processor, by its `name` (remoteprocN is numbered anew at each boot).' }),
    recovery: z.boolean().default(true).meta({ description: 'Let the kernel reload and restart the firmware after a crash (default true); false: the cell fails and its health table applies.' }),
    coredump: z
      .enum(['disabled', 'enabled', 'inline'])
      .default('disabled')
      .meta({ description: 'What the kernel keeps of a crash: nothing (default), a copy of the memory (enabled), or the memory read in place (inline; recovery waits until it is read).' }),
    bootloader: z
      .boolean()
      .default(false)
      .meta({
        description:
          'The bootloader starts this firmware before Linux: a processor found attached is adopted as it runs and never loaded (its firmware reads `unknown`, so crtosd cannot compare it); a detached one is attached by `start`.',
      }),
  })
  .meta({ title: 'remoteproc processor', description: 'The remote processor a Cell on a `type: remoteproc` Hypervisor runs on.' });

export type RemoteprocCellConfig = z.output<typeof remoteprocCellConfig>;

/**
 * The mapping as the Cell's `config` union tries it: one without `processor` is no remoteproc
 * mapping at all, refused as a value of another type, so a Jailhouse configuration's own mistakes
 * are the ones reported. Hints and the JSON Schema see remoteprocCellConfig.
 */
const inlineConfig = standIn(
  z.looseObject({}).transform((value, ctx): RemoteprocCellConfig => {
    if (!('processor' in value)) {
      ctx.addIssue({ code: 'invalid_type', expected: 'object', input: value, message: 'a remoteproc processor mapping names its processor' });
      return z.NEVER;
    }
    const parsed = remoteprocCellConfig.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0] & object);
    return z.NEVER;
  }),
  () => remoteprocCellConfig,
);

export const remoteprocDefinition: BackendDefinition<typeof remoteprocFields> = {
  type: 'remoteproc',
  title: 'remoteproc',
  fields: remoteprocFields,
  references: (h) => (h.driver ? [{ field: 'driver', target: unitId(h.driver, 'Driver') }] : []),
  files: () => [],
  // Where the firmware goes is the cells' business (their description carries it): no re-enable.
  changes: { driver: 're-enable', firmwareDir: 'none', timeout: 'none' },
  partitions: { inlineConfig },
  checkCells: async (ctx, hv, cells) => (await import('./check-cells.js')).checkCells(ctx, hv as RemoteprocHypervisor, cells),
  links: {
    types: [rpmsgLinkType],
    check: async (ctx, hv, links) => (await import('./check-links.js')).checkLinks(ctx, hv as RemoteprocHypervisor, links),
  },
};
