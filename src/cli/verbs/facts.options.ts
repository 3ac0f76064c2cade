/** `crtosctl facts`: what the VERBS table and completion know of it. */
import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [{ name: 'root', value: true, complete: 'dirs', help: 'read the facts of the machine (or file tree) under this directory; default /' }];
export const OPERANDS: Operands = 'none';
