/** Image: a file loaded into a cell (or placed for RTMux), pinned by its SHA-256. */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES } from '../spec-common.js';
import { machinePath } from '../../units/scalars.js';
import type { Unit, UnitOf } from '../../units/types.js';

export const imageSchema = z
  .strictObject({
    kind: z.literal('Image'),
    ...commonFields,
    path: machinePath.meta({ description: 'The image file on the machine.' }),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, { message: 'must be 64 hex digits (`sha256sum FILE`)' })
      .transform((s) => s.toLowerCase())
      .optional()
      .meta({ description: 'Expected SHA-256; checked before every load, a mismatch refuses the load.' }),
  })
  .meta({ title: 'Image', description: 'A binary loaded into a cell, optionally pinned by its SHA-256.' });

export type ImageSpec = z.output<typeof imageSchema>;

export const imageDefinition = defineKind({
  kind: 'Image',
  summary: 'A binary loaded into a cell, pinned by its SHA-256',
  schema: imageSchema,
  references: () => [],
  files: (i) => [{ field: 'path', path: i.path }],
  // A new path or checksum changes what the cells that load this image must load: the engine
  // reloads those cells (Cell.load is a 'reload' field); the image unit itself has nothing to do.
  changes: { ...COMMON_CHANGES, path: 'reload', sha256: 'reload' },
  inert: true,
  pins: (i) => [{ field: 'path', path: i.path, pinField: 'sha256', sha256: i.sha256 }],
});

/** The spec of an Image unit, undefined for a unit of another kind (or none): how other kinds read the images they name. */
export function imageSpecOf(unit: Unit | undefined): ImageSpec | undefined {
  return unit?.kind === 'Image' ? (unit as UnitOf<'Image'>).spec : undefined;
}
