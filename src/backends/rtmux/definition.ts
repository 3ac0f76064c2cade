/**
 * RTMux as a unit file names it: `type: rtmux`. The RT domain starts when rtvmm.ko loads and reads
 * its image from a hard-coded path, so the unit names the image to place there and the module.
 * RTMux runs no cells. Pure: `validate` and crtosctl load it.
 */
import { z } from 'zod';
import { unitId } from '../../kinds/spec-common.js';
import { duration, machinePath } from '../../units/scalars.js';
import { moduleParameters } from '../../kinds/driver/parameters.js';
import type { BackendDefinition, HypervisorUnit } from '../port.js';

export const rtmuxFields = {
  module: machinePath.meta({ description: 'Path of rtvmm.ko; loading it starts the RT domain.' }),
  parameters: moduleParameters,
  image: z.string().meta({ description: 'Name of the Image unit placed at imagePath before the module loads.' }),
  imagePath: machinePath.default('/vmm/rtos.bin').meta({ description: 'Where rtvmm.ko reads the RTOS image (hard-coded upstream).' }),
  timeout: duration.prefault(30).meta({ description: 'Timeout of loading and unloading the module (default 30s).' }),
};

export type RtmuxFields = z.output<z.ZodObject<typeof rtmuxFields>>;
export type RtmuxHypervisor = HypervisorUnit<RtmuxFields>;

export const rtmuxDefinition: BackendDefinition<typeof rtmuxFields> = {
  type: 'rtmux',
  title: 'RTMux',
  fields: rtmuxFields,
  references: (h) => [{ field: 'image', target: unitId(h.image, 'Image') }],
  files: (h) => [{ field: 'module', path: h.module }],
  changes: { module: 're-enable', parameters: 're-enable', image: 're-enable', imagePath: 're-enable', timeout: 'none' },
};
