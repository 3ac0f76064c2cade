import { describe, expect, it } from 'vitest';
import { coredumpBytes, hasTrace, heartbeats, traceText, TRACE_LINES } from '../../../src/sim/remoteproc/content.js';
import { parseFirmware, zephyrFirmware, type FirmwareImage } from '../../../src/sim/remoteproc/firmware.js';
import type { CoreState } from '../../../src/sim/remoteproc/model.js';

const image = parseFirmware(zephyrFirmware(), '/fw') as FirmwareImage;
const T0 = 1_000_000;

describe('the trace buffer', () => {
  const core: CoreState = { executing: true, image, since: T0 };

  it('counts one heartbeat per period once booted', () => {
    expect(heartbeats(core, T0 + image.bootMs - 1)).toBe(0);
    expect(heartbeats(core, T0 + image.bootMs)).toBe(1);
    expect(heartbeats(core, T0 + image.bootMs + 10 * image.heartbeatMs)).toBe(11);
  });

  it('stops counting when the firmware hangs or halts', () => {
    const hung = { ...core, hungAt: T0 + image.bootMs + 250 };
    expect(heartbeats(hung, T0 + 60_000)).toBe(3);
    expect(heartbeats({ ...core, haltedAt: T0 + image.bootMs + 250 }, T0 + 60_000)).toBe(3);
  });

  it('shows the banner and the last lines, as a ring buffer does', () => {
    expect(traceText(core, T0)).toBe('*** Booting zephyr-openamp-rsc-table version 1 ***\n');
    const text = traceText(core, T0 + image.bootMs + 99 * image.heartbeatMs);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + TRACE_LINES);
    expect(lines.at(-1)).toBe('heartbeat 100');
    expect(lines[1]).toBe(`heartbeat ${100 - TRACE_LINES + 1}`);
  });

  it('exists for simulated firmware with a heartbeat only', () => {
    expect(hasTrace(core)).toBe(true);
    expect(hasTrace({ executing: true, image: { ...image, heartbeatMs: 0 }, since: T0 })).toBe(false);
    const { identity: _, ...foreign } = image;
    expect(hasTrace({ executing: true, image: foreign, since: T0 })).toBe(false);
  });
});

describe('the coredump', () => {
  it('is an ELF32 ET_CORE for ARM with one PT_LOAD segment that fills the rest of the file', () => {
    const bytes = coredumpBytes({ id: 1, processor: 'imx-rproc', rproc: 0, createdAt: T0, inline: false, crash: 1, image: { sha256: image.sha256, size: image.size } });
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([...bytes.subarray(0, 6)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 1, 1]);
    expect(v.getUint16(16, true)).toBe(4);
    expect(v.getUint16(18, true)).toBe(40);
    expect(v.getUint16(44, true)).toBe(1);
    const phoff = v.getUint32(28, true);
    expect(v.getUint32(phoff, true)).toBe(1);
    expect(v.getUint32(phoff + 4, true) + v.getUint32(phoff + 16, true)).toBe(bytes.length);
    const again = coredumpBytes({ id: 9, processor: 'imx-rproc', rproc: 0, createdAt: 0, inline: true, crash: 2, image: { sha256: image.sha256, size: image.size } });
    expect(Buffer.compare(bytes, again)).not.toBe(0);
  });
});
