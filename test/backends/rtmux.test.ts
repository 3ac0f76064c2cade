/**
 * The RTMux backend on the simulated RTMux machine, through the port only: enable places the
 * verified image before rtvmm.ko loads (the module reads it at load), resumes without acting when
 * both are done, observe tells a changed image, disable unloads once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendOf, type BackendSnapshot, type HypervisorUnit } from '../../src/backends/index.js';
import type { Target } from '../../src/kinds/behaviour.js';
import type { UnitFacts } from '../../src/engine/types.js';
import type { UnitSet } from '../../src/units/types.js';
import { RTMUX_DESCRIPTION, rtthreadImage } from '../../src/sim/index.js';
import { describeContext, exampleSet, kindContext, simHost, stopContext, type SimHost } from './helpers.js';

const rtmux = backendOf('rtmux');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the RTMux backend on the simulated machine', () => {
  let sim: SimHost;
  let set: UnitSet;
  let hv: HypervisorUnit;
  let facts: UnitFacts;
  const target = (): Target => ({ id: hv.id, kind: hv.kind, unit: hv, facts });

  /** What a snapshot holds for it: /proc/modules and the sha256 of the image in place. */
  async function snapshot(): Promise<BackendSnapshot> {
    const modules = await sim.host.modules();
    const digests = new Map((rtmux.hypervisor.digests?.(target()) ?? []).map((p) => [p, (() => {
      try {
        return sha(readFileSync(join(sim.machine.dir, p)));
      } catch {
        return undefined;
      }
    })()]));
    return { backends: new Map(), modules: new Map(modules.map((m) => [m.name, m])), digests };
  }

  beforeAll(async () => {
    sim = await simHost(RTMUX_DESCRIPTION);
    set = await exampleSet('rtmux');
    hv = set.units.get('rtmux.hypervisor') as HypervisorUnit;
    facts = (await rtmux.describe!(hv, describeContext(set, sim.host))).facts!;
  });
  afterAll(async () => sim.cleanup());

  test('runs no cells, has no lock of its own and no status to poll: its state is the snapshot\'s', () => {
    expect(rtmux.partitions).toBeUndefined();
    expect(rtmux.lockGroup).toBeUndefined();
    expect(rtmux.observe).toBeUndefined();
    expect(rtmux.changed).toBeUndefined();
    expect(facts).toEqual({ moduleName: 'rtvmm', imageSha256: sha(rtthreadImage()) });
  });

  test('before enable the unit is inactive; it watches the sha256 of the image in place', async () => {
    expect(rtmux.hypervisor.digests!(target())).toEqual(['/vmm/rtos.bin']);
    expect(rtmux.hypervisor.observe(target(), await snapshot())).toEqual({ state: 'inactive', subState: 'dead', enabled: false });
  });

  test('enable places the image, then loads the module; a second enable does nothing', async () => {
    const ctx = () => kindContext(sim.host, set, { facts });
    expect(await rtmux.hypervisor.enable(hv, ctx())).toEqual(facts);
    expect(await rtmux.hypervisor.enable(hv, ctx())).toEqual(facts);
    expect(await sim.count('insmod')).toBe(1);
    expect(sha(readFileSync(join(sim.machine.dir, 'vmm/rtos.bin')))).toBe(facts.imageSha256);
    expect(rtmux.hypervisor.observe(target(), await snapshot())).toEqual({ state: 'active', subState: 'running', enabled: true });
  });

  test('other bytes in place show as image-changed: the next insmod would start something else', async () => {
    writeFileSync(join(sim.machine.dir, 'vmm/rtos.bin'), 'another image');
    expect(rtmux.hypervisor.observe(target(), await snapshot())).toEqual({ state: 'partial', subState: 'image-changed', enabled: true });
  });

  test('enable repairs it: unload, place again, load', async () => {
    await rtmux.hypervisor.enable(hv, kindContext(sim.host, set, { facts }));
    expect(await sim.count('rmmod')).toBe(1);
    expect(await sim.count('insmod')).toBe(2);
    expect(rtmux.hypervisor.observe(target(), await snapshot())).toMatchObject({ state: 'active' });
  });

  test('disable unloads the module once; a second disable finds it gone', async () => {
    await rtmux.hypervisor.disable(target(), stopContext(sim.host));
    await rtmux.hypervisor.disable(target(), stopContext(sim.host));
    expect(await sim.count('rmmod')).toBe(2);
    expect(rtmux.hypervisor.observe(target(), await snapshot())).toMatchObject({ state: 'inactive' });
  });
});
