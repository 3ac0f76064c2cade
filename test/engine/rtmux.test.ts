/**
 * units/rtmux/ on the simulated RTMux machine: the Hypervisor unit places its verified image at
 * /vmm/rtos.bin and only then loads rtvmm.ko (which reads the image at load); a new image
 * re-places and reloads once the operator restarts the hypervisor (it ends the RT domain); a
 * missing image or a failing insmod fails the unit.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { makeFixture, settle, states, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import { RTMUX_DESCRIPTION, rtthreadImage, type SimLogEntry } from '../../src/sim/index.js';

const UNITS = join(import.meta.dirname, '../../units/rtmux');
const ALL_ACTIVE = { 'rt-thread.image': 'active/success', 'rtmux.hypervisor': 'active/success' };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function rtvmmLoads(f: Fixture): Promise<SimLogEntry[]> {
  return (await f.machine.readLog()).filter((e) => e.op === 'insmod');
}

async function rtDomain(f: Fixture) {
  return (await f.machine.state()).modules.find((m) => m.name === 'rtvmm')?.rtDomain;
}

describe('the RTMux example on the simulated machine', () => {
  let f: Fixture;
  let m: Manager;
  const placed = () => join(f.machine.dir, 'vmm/rtos.bin');

  beforeAll(async () => {
    f = await makeFixture({ description: RTMUX_DESCRIPTION, units: UNITS });
    m = f.manager();
  });
  afterAll(async () => f.cleanup());

  test('comes up: the image is placed first, then rtvmm loads, reads it and runs the RT domain', async () => {
    expect(existsSync(placed())).toBe(false);
    const outcome = await m.start();
    expect(outcome.ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(await f.ops()).toEqual([`insmod ${f.machine.dir}/lib/modules/rtvmm.ko`]);
    const image = rtthreadImage();
    expect(sha(readFileSync(placed()))).toBe(sha(image));
    const [load] = await rtvmmLoads(f);
    // In that order: the file was complete before the insmod process started, and the module read it.
    expect(statSync(placed()).mtimeMs).toBeLessThanOrEqual(load!.start!);
    expect(load!.detail).toMatchObject({ module: 'rtvmm', rtDomain: { running: true, image: { sha256: sha(image), size: image.length } } });
    expect(load!.detail).not.toHaveProperty('kernelLog');
    expect(await rtDomain(f)).toEqual({ running: true, image: { sha256: sha(image), size: image.length } });
    expect(m.getUnit('rtmux.hypervisor')!.subState).toBe('running');
  });

  test('a second pass with nothing changed does nothing', async () => {
    await f.machine.clearLog();
    await m.trigger('test');
    expect(await f.ops()).toEqual([]);
  });

  test('an edited image (new path and sha256) is held until the hypervisor is restarted; then the old RT domain is unloaded, the new image placed and rtvmm loaded again', async () => {
    const v1 = rtthreadImage();
    const v2 = rtthreadImage(2);
    writeFileSync(join(f.machine.dir, 'opt/rtmux/rtthread-v2.bin'), v2);
    await f.machine.clearLog();
    f.writeUnit('rtmux.yaml', f.readUnit('rtmux.yaml').replace('/opt/rtmux/rtthread.bin', '/opt/rtmux/rtthread-v2.bin').replace(/sha256: [0-9a-f]{64}/, `sha256: ${sha(v2)}`));
    // Reloading rtvmm ends the RT domain: shown, not done.
    const outcome = await m.reload();
    expect(outcome.ok).toBe(true);
    expect(outcome.steps).toEqual([{ unit: 'rtmux.hypervisor', action: 'pending', reason: expect.stringMatching(/^re-enable \(.+\); apply with `crtosctl restart rtmux\.hypervisor`/) }]);
    await settle(m);
    await m.trigger('a pass with the change held');
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(await f.ops()).toEqual([]);
    expect(sha(readFileSync(placed()))).toBe(sha(v1));
    expect((await rtDomain(f))?.image?.sha256).toBe(sha(v1));
    expect(m.getUnit('rtmux.hypervisor')!.pendingChange).toBe(outcome.steps[0]!.reason);

    // The operator asks for it.
    m.enqueue('rtmux.hypervisor', 'restart');
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(await f.ops()).toEqual(['rmmod rtvmm', `insmod ${f.machine.dir}/lib/modules/rtvmm.ko`]);
    expect(sha(readFileSync(placed()))).toBe(sha(v2));
    expect((await rtDomain(f))?.image?.sha256).toBe(sha(v2));
    expect(m.getUnit('rtmux.hypervisor')!.pendingChange).toBeUndefined();
    await f.machine.clearLog();
    expect((await m.reload()).steps).toEqual([]);
    await m.trigger('a pass once applied');
    expect(await f.ops()).toEqual([]);
  });

  test('the placed image removed behind its back: observed partial, then placed again and rtvmm reloaded', async () => {
    rmSync(placed());
    await f.machine.clearLog();
    await m.trigger('test');
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(await f.ops()).toEqual(['rmmod rtvmm', `insmod ${f.machine.dir}/lib/modules/rtvmm.ko`]);
    expect((await rtDomain(f))?.running).toBe(true);
  });

  test('stop unloads the module and ends the RT domain', async () => {
    await f.machine.clearLog();
    m.enqueue('rtmux.hypervisor', 'stop');
    await settle(m);
    expect(await f.ops()).toEqual(['rmmod rtvmm']);
    expect((await f.machine.state()).modules).toEqual([]);
    expect(m.getUnit('rtmux.hypervisor')!.activeState).toBe('inactive');
  });
});

describe('RTMux failures', () => {
  const fixtures: Fixture[] = [];
  afterAll(async () => Promise.all(fixtures.map((f) => f.cleanup())));
  const fixture = async () => {
    const f = await makeFixture({ description: RTMUX_DESCRIPTION, units: UNITS });
    fixtures.push(f);
    return f;
  };

  test('a missing image file refuses the set before anything is done, pointing at the unit file', async () => {
    const f = await fixture();
    rmSync(join(f.machine.dir, 'opt/rtmux/rtthread.bin'));
    const m = f.manager();
    const outcome = await m.start();
    await settle(m);
    expect(outcome.ok).toBe(false);
    expect(outcome.problems).toEqual([
      expect.objectContaining({ code: 'UNIT_FILE_MISSING', unit: 'rt-thread.image', file: join(f.unitsDir, 'rtmux.yaml'), line: expect.any(Number), column: 7 }),
    ]);
    expect(outcome.problems[0]!.message).toBe("'path' names /opt/rtmux/rtthread.bin, which does not exist");
    expect(m.daemon().lastLoadErrors.map((p) => p.code)).toEqual(['UNIT_FILE_MISSING']);
    expect(m.listUnits()).toEqual([]);
    expect(await f.ops()).toEqual([]);
    expect(existsSync(join(f.machine.dir, 'vmm/rtos.bin'))).toBe(false);
  });

  test('a failing insmod (injected) is retried, then fails the hypervisor unit with the tool error', async () => {
    const f = await fixture();
    f.writeUnit('rtmux.yaml', f.readUnit('rtmux.yaml').replace('imagePath: /vmm/rtos.bin', 'imagePath: /vmm/rtos.bin\nrestartSec: 50ms\nstartLimit: { burst: 2, interval: 1min }'));
    await f.machine.addFault({ op: 'insmod', errno: 'ENOMEM' });
    const m = f.manager();
    await m.start();
    await settle(m);
    expect(states(m)).toEqual({ 'rt-thread.image': 'active/success', 'rtmux.hypervisor': 'failed/start-limit-hit' });
    expect((await f.machine.readLog()).filter((e) => e.op === 'insmod').length).toBe(2);
    const error = m.getUnit('rtmux.hypervisor')!.lastError!;
    expect(error.code).toBe('ENGINE_START_LIMIT');
    expect(error.message).toContain('insmod /lib/modules/rtvmm.ko');
    expect(error.message).toContain('Cannot allocate memory');
    expect((await f.machine.state()).modules).toEqual([]);
  });
});
