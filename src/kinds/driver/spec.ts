/** Driver: a kernel module, loaded by name (modprobe) or from a file (insmod). */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES, RETRY_CHANGES, retryFields } from '../spec-common.js';
import { duration, machinePath } from '../../units/scalars.js';
import { linkFactRef, linkReferences } from '../link/spec.js';
import { parameterName, parameterValue } from './parameters.js';

export { moduleParameters } from './parameters.js';


/** A driver's parameters may take a value from a link (its placement decides it). */
const driverParameters = z
  .record(parameterName, z.union([parameterValue, linkFactRef]))
  .default({})
  .meta({ description: 'Module parameters, name: value (passed as name=value); a value may be taken from a link: `shmaddr: { link: shadow, fact: rwAddress }`.' });

export const driverSchema = z
  .strictObject({
    kind: z.literal('Driver'),
    ...commonFields,
    module: z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'must be a module name as modprobe takes it (letters, digits, "_" and "-")' }).optional().meta({ description: 'Module name for modprobe (give this or path).' }),
    path: machinePath.optional().meta({ description: 'Path of a .ko file for insmod (give this or module).' }),
    parameters: driverParameters,
    provides: z
      .union([machinePath, z.array(machinePath)])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .default([])
      .meta({ description: 'Device nodes the driver creates; the unit is active only once all exist.' }),
    timeout: duration.prefault(10).meta({ description: 'How long to wait for `provides` nodes (default 10s).' }),
    unloadOnStop: z.boolean().default(true).meta({ description: 'Unload the module when the unit stops (default true).' }),
    ...retryFields,
  })
  .refine((d) => (d.module === undefined) !== (d.path === undefined), {
    message: 'give exactly one of `module` (modprobe by name) or `path` (insmod a .ko file)',
    path: ['module'],
  })
  .meta({ title: 'Driver', description: 'A kernel module loaded by name (modprobe) or from a file (insmod).' });

export type DriverSpec = z.output<typeof driverSchema>;

/** The name the module has in /proc/modules once loaded: file stem, dashes as underscores. */
export function driverModuleName(spec: Pick<DriverSpec, 'module' | 'path'>): string {
  const raw = spec.module ?? (spec.path ?? '').split('/').pop()!.replace(/\.ko(\.[gx]z|\.zst)?$/, '');
  return raw.replace(/-/g, '_');
}

export const driverDefinition = defineKind({
  kind: 'Driver',
  summary: 'A kernel module, loaded by name or from a .ko file',
  schema: driverSchema,
  references: (d) => linkReferences('parameters', d.parameters),
  files: (d) => (d.path ? [{ field: 'path', path: d.path }] : []),
  provides: (d) => d.provides,
  changes: { ...COMMON_CHANGES, module: 'restart', path: 'restart', parameters: 'restart', provides: 'none', timeout: 'none', unloadOnStop: 'none', ...RETRY_CHANGES },
});
