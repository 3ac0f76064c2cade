/**
 * What the running firmware and a crash leave for Linux to read: the trace buffer (debugfs
 * `trace0`, where the firmware prints its boot banner and a heartbeat line every period) and the
 * coredump (an ELF core file, devcoredump's `data`). Both derive from the model and the time, so
 * nothing has to be written while the firmware runs.
 */
import { deterministicImage } from '../image-bytes.js';
import type { CoreState, Devcoredump } from './model.js';

/** How many heartbeat lines the trace buffer holds (it wraps, as the firmware's ring buffer does). */
export const TRACE_LINES = 16;

/** The firmware has a trace buffer: a simulated image with a heartbeat period. */
export function hasTrace(core: CoreState): boolean {
  return core.image?.identity !== undefined && core.image.heartbeatMs > 0 && core.since !== undefined;
}

/** How many heartbeats the firmware has written by `now`: one per period after it booted, none once hung or halted. */
export function heartbeats(core: CoreState, now: number): number {
  const image = core.image;
  if (!image || core.since === undefined || image.heartbeatMs <= 0) return 0;
  const end = Math.min(now, core.hungAt ?? Infinity, core.haltedAt ?? Infinity);
  const booted = core.since + image.bootMs;
  return end < booted ? 0 : Math.floor((end - booted) / image.heartbeatMs) + 1;
}

/** trace0's text: the banner, then the last TRACE_LINES heartbeat lines. */
export function traceText(core: CoreState, now: number): string {
  const identity = core.image?.identity;
  if (!identity) return '';
  const count = heartbeats(core, now);
  const lines = [`*** Booting ${identity.name} version ${identity.version} ***`];
  for (let n = Math.max(1, count - TRACE_LINES + 1); n <= count; n++) lines.push(`heartbeat ${n}`);
  return `${lines.join('\n')}\n`;
}

const ET_CORE = 4;
const EM_ARM = 40;
const PT_LOAD = 1;
const ELF32_EHDR = 52;
const ELF32_PHDR = 32;
/** Where the example core's TCM is in its own address space (the segment's address in the dump). */
const SEGMENT_ADDRESS = 0x1ffe0000;
const SEGMENT_SIZE = 4096;

/** The dump as rproc_coredump makes it: an ELF32 ET_CORE file with one PT_LOAD segment (the core's memory). */
export function coredumpBytes(d: Devcoredump): Uint8Array {
  const out = new Uint8Array(ELF32_EHDR + ELF32_PHDR + SEGMENT_SIZE);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  view.setUint16(16, ET_CORE, true);
  view.setUint16(18, EM_ARM, true);
  view.setUint32(20, 1, true);
  view.setUint32(28, ELF32_EHDR, true);
  view.setUint16(40, ELF32_EHDR, true);
  view.setUint16(42, ELF32_PHDR, true);
  view.setUint16(44, 1, true);
  const ph = ELF32_EHDR;
  view.setUint32(ph, PT_LOAD, true);
  view.setUint32(ph + 4, ELF32_EHDR + ELF32_PHDR, true);
  view.setUint32(ph + 8, SEGMENT_ADDRESS, true);
  view.setUint32(ph + 12, SEGMENT_ADDRESS, true);
  view.setUint32(ph + 16, SEGMENT_SIZE, true);
  view.setUint32(ph + 20, SEGMENT_SIZE, true);
  view.setUint32(ph + 24, 7, true);
  const memory = deterministicImage(SEGMENT_SIZE, `crtos-sim core memory of ${d.processor}, crash #${d.crash}, image ${d.image?.sha256 ?? 'unknown'}\n`, 0x3c6ef372 ^ d.crash);
  out.set(memory, ELF32_EHDR + ELF32_PHDR);
  return out;
}
