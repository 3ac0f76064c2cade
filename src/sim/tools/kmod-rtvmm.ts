/**
 * What loading rtvmm.ko does (its vmm_init): it opens the hard-coded
 * /vmm/rtos.bin, copies it into the RT domain's memory and jumps to it. Without the file it prints
 * "open file failed", skips the jump and still loads: a module with no RTOS running. Only rmmod
 * (vmm_exit) ends the domain, which the simulator models by the domain living on the module entry.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { SimRtDomain } from '../state.js';
import { RTVMM_IMAGE_PATH } from '../rtmux-example.js';
import { underMachine } from './context.js';

export interface RtvmmLoad {
  domain: SimRtDomain;
  /** Lines the module printed to the kernel log. */
  kernelLog: string[];
}

export function loadRtvmm(dir: string): RtvmmLoad {
  let image: Buffer;
  try {
    image = readFileSync(underMachine(dir, RTVMM_IMAGE_PATH));
  } catch {
    return { domain: { running: false }, kernelLog: ['open file failed'] };
  }
  return { domain: { running: true, image: { sha256: createHash('sha256').update(image).digest('hex'), size: image.length } }, kernelLog: [] };
}
