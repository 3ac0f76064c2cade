/**
 * The RTMux example machine: a Realview PB-A8 (one Cortex-A8), a board RTMux targets, with
 * rtvmm.ko at /lib/modules/rtvmm.ko and an RT-Thread Lite image at /opt/rtmux/rtthread.bin, the
 * files units/rtmux/ names. No Jailhouse: the RT domain is the module itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MachineDescription } from './description.js';
import { deterministicImage } from './image-bytes.js';

export const RTMUX_MODULE_FILE = '/lib/modules/rtvmm.ko';
export const RTMUX_IMAGE_FILE = '/opt/rtmux/rtthread.bin';
/** Hard-coded in rtvmm.ko's vmm_init(); the module reads no other path. */
export const RTVMM_IMAGE_PATH = '/vmm/rtos.bin';

/** Merged over the default description by createSimMachine: `createSimMachine(dir, RTMUX_DESCRIPTION)`. */
export const RTMUX_DESCRIPTION: Partial<MachineDescription> = {
  arch: 'arm',
  cpus: 1,
  offlineCpus: [],
  // The RTMux patches are against Linux v3.8.13.
  kernelRelease: '3.8.13-rtmux-sim',
  // modules/vmm.c declares no module_param: no parameters.
  modules: [{ name: 'rtvmm', file: RTMUX_MODULE_FILE, size: 12288, effect: 'rtvmm' }],
  readiness: [],
  example: 'rtmux',
};

/** 32 KiB of deterministic bytes (a fixed header, then an xorshift sequence), so its sha256 can be pinned. */
export function rtthreadImage(version = 1): Uint8Array {
  return deterministicImage(32 * 1024, `crtos-sim rt-thread lite image v${version}\n`, 0x1b873593 ^ version);
}

/** The example's files besides the module (which the catalog writes): the RTOS image, not yet placed. */
export function writeRtmuxExample(dir: string): void {
  const image = join(dir, RTMUX_IMAGE_FILE);
  mkdirSync(dirname(image), { recursive: true });
  writeFileSync(image, rtthreadImage());
}
