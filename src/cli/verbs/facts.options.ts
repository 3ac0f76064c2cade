/** `crtosctl facts`: what the VERBS table and completion know of it. */
import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'root', value: true, complete: 'dirs', help: 'read the facts of the machine (or file tree) under this directory; default /' },
  { name: 'path', value: true, complete: 'files', help: 'also record whether this machine path exists, for pathExists conditions (repeatable)' },
];
export const OPERANDS: Operands = 'none';
