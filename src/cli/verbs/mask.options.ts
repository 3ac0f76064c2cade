/** mask and unmask's options. */
import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [{ name: 'runtime', help: 'until the next reboot only (/run/crtos/mask) instead of persistently (/etc/crtos/mask)' }];
export const OPERANDS: Operands = 'units';
export const USAGE = 'UNIT...';
