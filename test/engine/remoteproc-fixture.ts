/** What the remoteproc engine tests share: the example's units, its units all active, the sysfs writes a machine logged. */
import { join } from 'node:path';
import type { SimMachine } from '../../src/sim/index.js';

export const REMOTEPROC_UNITS = join(import.meta.dirname, '../../units/remoteproc');
export const RP_ACTIVE = {
  'console.link': 'active/success',
  'remoteproc.hypervisor': 'active/success',
  'rpmsg-proxy.loader': 'active/success',
  'zephyr.cell': 'active/success',
  'zephyr.image': 'active/success',
};

/** The sysfs writes the machine logged, as `attribute value` (`state start`). */
export async function sysfsWrites(f: { machine: SimMachine }): Promise<string[]> {
  return (await f.machine.readLog())
    .filter((e) => e.op === 'sysfs write')
    .map((e) => `${String(e.args[0]).split('/').pop()} ${String(e.args[1]).trim()}${e.result === 'ok' ? '' : ` => ${e.result}`}`);
}
