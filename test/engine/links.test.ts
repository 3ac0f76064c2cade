/**
 * Link units on the simulated machine (issue 12): the cRTOS example brought up from its two links
 * alone; a link edit that needs a re-enable held until the operator asks, then applied whole; a
 * link added to a running system; and every bad case refused with its position, the machine left
 * exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_ACTIVE, makeFixture, settle, states, untilUnit, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import type { JobInfo, JobResult } from '../../src/engine/manager-api.js';
import { decodeConfig, type CellConfig, type SystemConfig } from '../../src/jailhouse/index.js';

const GENERATED_SYSTEM = '/run/crtos/hypervisors/jailhouse.cell';
const GENERATED_NUTTX = '/run/crtos/cells/nuttx.cell';

/** Resolves with the result of job `id` once jobRemoved announces it. */
function ended(m: Manager, id: number): Promise<JobResult> {
  return new Promise((resolve) => {
    const listener = (job: JobInfo, result: JobResult) => {
      if (job.id !== id) return;
      m.off('jobRemoved', listener);
      resolve(result);
    };
    m.on('jobRemoved', listener);
  });
}

describe('Link units on the simulated machine', () => {
  let f: Fixture;
  let m: Manager;
  const generated = <T extends SystemConfig | CellConfig>(path: string): T => {
    const decoded = decodeConfig(readFileSync(join(f.machine.dir, path)), { arch: 'x86' });
    if (!decoded.ok) throw new Error(`${path} does not decode`);
    return decoded.config as T;
  };
  /** The root cell's ivshmem devices as the generated system configuration has them. */
  const rootLinks = () => generated<SystemConfig>(GENERATED_SYSTEM).rootCell.pciDevices.map((d) => `${d.bdf.toString(16)}:${d.shmemProtocol}:${d.shmemRegionsStart}`);

  beforeAll(async () => {
    f = await makeFixture();
    m = f.manager();
  });
  afterAll(async () => f.cleanup());

  test('bring-up from the links alone: the generated system configuration is enabled, the drivers get their values from the links', async () => {
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    const ops = await f.ops();
    // The tools get the machine paths resolved under the simulated machine's root.
    expect(ops.find((o) => o.startsWith('jailhouse enable'))?.endsWith(` ${join(f.machine.dir, GENERATED_SYSTEM)}`)).toBe(true);
    expect(ops.find((o) => o.startsWith('jailhouse cell create'))?.endsWith(` ${join(f.machine.dir, GENERATED_NUTTX)}`)).toBe(true);
    expect(ops.find((o) => o.startsWith('insmod') && o.includes('shadow.ko'))).toMatch(/ shmaddr=0x100001000$/);
    expect(ops.filter((o) => o.startsWith('ip addr add'))).toEqual([expect.stringMatching(/^ip addr add .*172\.16\.0\.1\/24.* enp0s13$/)]);
    expect(rootLinks()).toEqual(['70:2:1', '68:1:5']);
    expect(m.getUnit('shadow.link')!.details).toMatchObject({ address: '0x100000000', pci: '00:0e.0', device: '/sys/bus/pci/devices/0000:00:0e.0', present: true });
  });

  test('a link size edit: the plan holds the re-enable and nothing happens, until the operator restarts the hypervisor; then everything comes back', async () => {
    await f.machine.clearLog();
    f.writeUnit('links.yaml', f.readUnit('links.yaml').replace('outputSize: 508K', 'outputSize: 1M'));
    const planned = await m.planReload();
    expect(planned.ok).toBe(true);
    const pending = planned.steps.filter((s) => s.action === 'pending').map((s) => s.unit).sort();
    expect(pending).toEqual(['crtos-net.link', 'jailhouse.hypervisor', 'nuttx.cell']);
    expect(planned.steps.filter((s) => s.action !== 'pending')).toEqual([]);
    expect(planned.steps.find((s) => s.unit === 'jailhouse.hypervisor')!.reason).toMatch(/^re-enable \(field links changed\); apply with `crtosctl restart jailhouse\.hypervisor`/);

    const applied = await m.reload();
    expect(applied.ok).toBe(true);
    await settle(m);
    expect(await f.ops()).toEqual([]);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(m.getUnit('jailhouse.hypervisor')!.pendingChange).toMatch(/^re-enable \(field links changed\)/);
    expect(m.getUnit('nuttx.cell')!.pendingChange).toMatch(/field links changed with jailhouse\.hypervisor/);
    expect(m.getUnit('hello.loader')!.pendingChange).toBeUndefined();

    const restart = m.enqueue('jailhouse.hypervisor', 'restart');
    expect(await ended(m, restart.id)).toBe('done');
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    for (const id of ['jailhouse.hypervisor', 'nuttx.cell', 'crtos-net.link']) expect(m.getUnit(id)!.pendingChange, id).toBeUndefined();
    const ops = await f.ops();
    const at = (prefix: string) => ops.findIndex((o) => o.startsWith(prefix));
    expect(at('jailhouse cell destroy')).toBeLessThan(at('jailhouse disable'));
    expect(at('jailhouse disable')).toBeLessThan(at('jailhouse enable'));
    expect(at('jailhouse enable')).toBeLessThan(at('jailhouse cell create'));
    // The net link grew in place: 1 MiB outputs after its state table; shadow did not move.
    const outputs = generated<CellConfig>(GENERATED_NUTTX).memoryRegions.slice(4, 8).map((r) => [r.physStart, r.size]);
    expect(outputs).toEqual([
      [0x1_4010_0000n, 0x1000n],
      [0n, 0n],
      [0x1_4010_1000n, 0x10_0000n],
      [0x1_4020_1000n, 0x10_0000n],
    ]);
  });

  test('a link added to a running system: held like any re-enable; with reEnableOnChange the hypervisor applies it at once', async () => {
    await f.machine.clearLog();
    f.writeUnit('uio-link.yaml', 'kind: Link\nname: uio\ntype: ivshmem\nhypervisor: jailhouse\npeers: [root, nuttx]\noutputSize: 4K\n');
    const held = await m.reload();
    expect(held.ok).toBe(true);
    expect(held.steps.filter((s) => s.action !== 'pending')).toEqual([]);
    await settle(m);
    expect(await f.ops()).toEqual([]);
    expect(m.getUnit('uio.link')!.activeState).toBe('inactive');

    f.writeUnit('jailhouse.yaml', f.readUnit('jailhouse.yaml').replace('type: jailhouse\n', 'type: jailhouse\nreEnableOnChange: true\n'));
    const applied = await m.reload();
    expect(applied.steps.find((s) => s.unit === 'jailhouse.hypervisor')?.action).toBe('re-enable');
    await settle(m);
    expect(states(m)).toEqual({ ...ALL_ACTIVE, 'uio.link': 'active/success' });
    // Allocated: the lowest free device slot on bus 0, its memory after the other links (which stay).
    expect(m.getUnit('uio.link')!.details).toMatchObject({ pci: '00:00.0', present: true });
    expect(rootLinks()).toEqual(['70:2:1', '68:1:5', '0:0:9']);
  });

  describe('refused, with the unit file position, nothing touched', () => {
    const refused = async (file: string, edit: (text: string) => string, code: string, where: RegExp) => {
      const before = f.readUnit(file);
      await f.machine.clearLog();
      f.writeUnit(file, edit(before));
      const outcome = await m.reload();
      expect(outcome.ok, JSON.stringify(outcome.problems)).toBe(false);
      const problem = outcome.problems.find((p) => p.code === code);
      expect(problem, JSON.stringify(outcome.problems)).toBeDefined();
      expect(`${problem!.file}:${problem!.line}:${problem!.column} ${problem!.unit} ${problem!.message}`, JSON.stringify(outcome.problems)).toMatch(where);
      expect(problem!.hint).toBeTruthy();
      await settle(m);
      expect(await f.ops()).toEqual([]);
      f.writeUnit(file, before);
      const restored = await m.reload();
      expect(restored.ok, JSON.stringify(restored.problems)).toBe(true);
      await settle(m);
    };

    test('a link whose peer cell is removed', async () => {
      const cell = f.readUnit('nuttx.yaml');
      await f.machine.clearLog();
      rmSync(join(f.unitsDir, 'nuttx.yaml'));
      const outcome = await m.reload();
      expect(outcome.ok).toBe(false);
      const peer = outcome.problems.find((p) => p.code === 'UNIT_UNKNOWN_REFERENCE' && p.unit === 'shadow.link');
      expect(`${peer?.file}:${peer?.line} ${peer?.message}`).toMatch(/links\.yaml:\d+ 'peers\[1\]' refers to 'nuttx\.cell', which does not exist/);
      await settle(m);
      expect(await f.ops()).toEqual([]);
      expect(m.getUnit('nuttx.cell')!.activeState).toBe('active');
      f.writeUnit('nuttx.yaml', cell);
      expect((await m.reload()).ok).toBe(true);
    });

    test('links that do not fit the pool', () =>
      refused('links.yaml', (t) => t.replace('rwSize: 1G', 'rwSize: 2G'), 'CELLCFG_LINK_POOL_FULL', /links\.yaml:\d+:\d+ shadow\.link the link needs .* \(state 4K \+ r\/w 2G \+ 2 × output 4K\), but the link pool .* \(1536M\)/));

    test('two links asking for the same PCI address', () =>
      refused('links.yaml', (t) => t.replace('pci: "00:0d.0"', 'pci: "00:0e.0"'), 'CELLCFG_LINK_PCI_TAKEN', /links\.yaml:\d+:\d+ (shadow|crtos-net)\.link PCI address 00:0e\.0 is also pinned by link (shadow|crtos-net)\.link/));

    test('a driver parameter referring to a missing link', () =>
      refused('drivers.yaml', (t) => t.replace('{ link: shadow, fact: rwAddress }', '{ link: shadw, fact: rwAddress }'), 'UNIT_UNKNOWN_REFERENCE', /drivers\.yaml:\d+:\d+ shadow\.driver .*shadw\.link/));

    test('a driver asking a link for a fact it does not have', () =>
      refused('drivers.yaml', (t) => t.replace('{ link: shadow, fact: rwAddress }', '{ link: shadow, fact: interface }'), 'UNIT_LINK', /drivers\.yaml:\d+:\d+ shadow\.driver shadow\.link has no interface; what it gives \(type ivshmem, as written\) is address, stateAddress, rwAddress, pci$/));

    test('a link on a hypervisor without a pool, unpinned', () =>
      refused('jailhouse.yaml', (t) => t.replace(/linkPool: .*\n/, ''), 'UNIT_LINK', /links\.yaml:\d+:\d+ (shadow|crtos-net)\.link .*names no linkPool/));
  });

  test('after all that, the machine still runs what it ran', async () => {
    await untilUnit(m, 'hello.loader', (s) => s.activeState === 'active');
    expect(states(m)).toEqual({ ...ALL_ACTIVE, 'uio.link': 'active/success' });
  });

  test('a link between two cells: the root cell is not touched, just those cells are (re-)created', async () => {
    await f.machine.clearLog();
    f.writeUnit(
      'second.yaml',
      [
        'kind: Cell',
        'name: second',
        'hypervisor: jailhouse',
        'config: { name: second, flags: [PASSIVE_COMMREG], cpus: 2, memoryRegions: [{ virtStart: 0x80000000, size: 4K, flags: [READ, WRITE, COMM_REGION] }] }',
        '---',
        'kind: Link',
        'name: between',
        'type: ivshmem',
        'hypervisor: jailhouse',
        'peers: [nuttx, second]',
        'outputSize: 4K',
        '',
      ].join('\n'),
    );
    const outcome = await m.reload();
    expect(outcome.ok, JSON.stringify(outcome.problems)).toBe(true);
    expect(outcome.steps.filter((s) => s.action === 'pending')).toEqual([]);
    expect(outcome.steps.find((s) => s.unit === 'jailhouse.hypervisor')).toBeUndefined();
    await settle(m);
    expect(m.getUnit('second.cell')!.activeState).toBe('active');
    expect(m.getUnit('between.link')!.activeState).toBe('active');
    const ops = (await f.ops()).filter((o) => o.startsWith('jailhouse'));
    expect(ops.some((o) => o.startsWith('jailhouse enable') || o.startsWith('jailhouse disable'))).toBe(false);
    expect(ops.filter((o) => o.startsWith('jailhouse cell create')).length).toBe(2);
    expect(ops.filter((o) => o.startsWith('jailhouse cell destroy')).map((o) => o.split(' ').pop())).toEqual(['nuttx']);
    // The new link is the last region set of both cells, at the same physical address, and in no root cell region.
    const second = generated<CellConfig>('/run/crtos/cells/second.cell');
    const nuttx = generated<CellConfig>(GENERATED_NUTTX);
    expect(second.pciDevices.map((d) => d.shmemDevId)).toEqual([1]);
    expect(nuttx.pciDevices.at(-1)!.bdf).toBe(second.pciDevices[0]!.bdf);
    expect(second.memoryRegions[0]!.physStart).toBe(nuttx.memoryRegions[nuttx.pciDevices.at(-1)!.shmemRegionsStart]!.physStart);
    expect(rootLinks()).toEqual(['70:2:1', '68:1:5', '0:0:9']);
  });
});
