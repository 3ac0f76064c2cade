import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [];
export const OPERANDS: Operands = ['units'];
