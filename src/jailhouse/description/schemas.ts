/**
 * The description schemas others use. They are built on first use: constructing them costs
 * ~10 ms, which the unit loader (a Cell's `config` may be written inline) must not pay for unit
 * sets without one.
 */
import { z } from 'zod';
import type { Arch, CellConfig, Revision } from '../types.js';
import { cellBodyFields, cpusFitSet, toCell } from './cell-schemas.js';
import { archSchema, revisionSchema, systemDescriptionSchema as buildSystemDescription } from './system-schemas.js';

/** What a Cell unit carries inline: the configuration, with revision and arch only when written. */
export type InlineCellConfig = Omit<CellConfig, 'revision' | 'arch'> & { revision?: Revision; arch?: Arch };

function buildCellDescription(body: ReturnType<typeof cellBodyFields>) {
  return z
    .strictObject({ kind: z.literal('cell'), revision: revisionSchema(), arch: archSchema(), ...body })
    .superRefine(cpusFitSet)
    .transform(({ kind: _kind, revision, arch, ...rest }) => toCell(rest, revision, arch));
}

function buildInlineCellConfig(body: ReturnType<typeof cellBodyFields>) {
  return z
    .strictObject({
      revision: z
        .literal([12, 13, 14])
        .optional()
        .meta({ description: 'Configuration revision (12, 13 or 14); default: that of the hypervisor\'s system configuration.' }),
      arch: z.enum(['x86', 'arm', 'arm64']).optional().meta({ description: 'Architecture; default: that of the hypervisor\'s system configuration.' }),
      ...body,
    })
    .superRefine(cpusFitSet)
    .transform(({ revision, arch, ...rest }): InlineCellConfig => {
      const { revision: _r, arch: _a, ...cell } = toCell(rest, 14, 'x86');
      return { ...cell, ...(revision === undefined ? {} : { revision }), ...(arch === undefined ? {} : { arch }) };
    })
    .meta({
      title: 'Inline cell configuration',
      description:
        'The cell configuration written out in the unit, as `crtosctl cell-config show` prints it without `kind`; crtosd encodes it for `jailhouse cell create`.',
    });
}

function buildSchemas() {
  const body = cellBodyFields();
  const cellDescription = buildCellDescription(body);
  const systemDescription = buildSystemDescription(body);
  return {
    cellDescription,
    inlineCellConfig: buildInlineCellConfig(body),
    systemDescription,
    configDescription: z.union([systemDescription, cellDescription]),
  };
}

let built: ReturnType<typeof buildSchemas> | undefined;
const schemas = (): ReturnType<typeof buildSchemas> => (built ??= buildSchemas());

/** A `kind: cell` description. */
export const cellDescriptionSchema = z.lazy(() => schemas().cellDescription);

/**
 * A cell configuration without `kind`, for a Cell unit that carries its configuration inline
 * (`config: { name: nuttx, cpus: 3, ... }`). Parses into a CellConfig whose `revision` and `arch`
 * are left out when not written: they belong to the hypervisor the cell runs on, so the unit's
 * user takes them from its system configuration (completeInlineCellConfig).
 */
export const inlineCellConfigSchema = z.lazy(() => schemas().inlineCellConfig);

/** A `kind: system` description. */
export const systemDescriptionSchema = z.lazy(() => schemas().systemDescription);

/** A description document: `kind: system` or `kind: cell`. */
export const configDescriptionSchema = z.lazy(() => schemas().configDescription);
