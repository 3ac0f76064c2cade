/**
 * The rows of issue 16's table: where the simulated machine used to differ from upstream
 * Jailhouse on QEMU arm64 (../shared/reference/real-jailhouse.md), each reproduced and seen as
 * crtosd sees it, through the stand-in `jailhouse` (its wrapper) and sysfs. Expected figures are
 * the real machine's or the upstream sources', written out here.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { encodeConfig, type SystemConfig } from '../../src/jailhouse/index.js';
import { destroySimMachine, nuttxCellConfig, type SimMachine } from '../../src/sim/index.js';
import { loadFixture } from '../jailhouse/fixtures.js';
import { observeWhile, read } from './observe.js';
import { machineFile, tempMachine, untilMachine } from './helpers.js';
import { every, until } from '../helpers/wait-for.js';

const JH = 'sys/devices/jailhouse';
const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };

/** A non-passive cell (no PASSIVE_COMMREG) on `cpus`, without links, with this msg_reply_timeout. */
function activeCell(m: SimMachine, file: string, name: string, cpus: number[], msgReplyTimeout: bigint): void {
  writeFileSync(join(m.dir, 'etc/jailhouse', file), encodeConfig({ ...nuttxCellConfig(EXAMPLE), flags: [], pciDevices: [], name, cpus, msgReplyTimeout }));
}

function otherCell(m: SimMachine): void {
  writeFileSync(join(m.dir, 'etc/jailhouse/other.cell'), encodeConfig({ ...nuttxCellConfig(EXAMPLE), name: 'other', cpus: [2], pciDevices: [] }));
}

async function inProcess(m: SimMachine, ...commands: string[][]): Promise<void> {
  for (const args of commands) {
    const r = await m.runInProcess('jailhouse', args);
    expect(r.code, `jailhouse ${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
}

describe('row 1: a non-passive cell that never answers while another cell is created or destroyed', () => {
  it('is sent RECONFIG_COMPLETED, the hypervisor polls msg_reply_timeout rounds, then the cell is failed with no failed CPU', async () => {
    const m = await tempMachine();
    // 1 000 000 rounds of the default 100 ns: 100 ms.
    activeCell(m, 'patient.cell', 'patient', [1], 1_000_000n);
    otherCell(m);
    await m.bringUp('enabled');
    await inProcess(m, ['cell', 'create', '/etc/jailhouse/patient.cell'], ['cell', 'start', 'patient']);
    await m.setCellReply('patient', 'silent');
    const { seen, result } = await observeWhile(() => read(m, `${JH}/cells/1/state`), m.run('jailhouse', ['cell', 'create', '/etc/jailhouse/other.cell']));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    // Running while the hypervisor waits for the reply, failed once it gave up, before the command returned.
    expect(seen).toEqual(['running', 'failed']);
    expect(machineFile(m, `${JH}/cells/1/cpus_failed_list`)).toBe('\n');
    expect(machineFile(m, `${JH}/cells/1/cpus_failed`)).toBe('0\n');
    const log = await m.readLog();
    expect(log.find((e) => e.op === 'jailhouse cell create' && e.args.includes('/etc/jailhouse/other.cell'))?.lockedMs).toBeGreaterThanOrEqual(100);
    expect(log.find((e) => e.op === 'cell failed')).toMatchObject({ args: ['patient'], detail: { by: 'jailhouse cell create', why: 'reconfiguration message unanswered' } });
    expect(read(m, `${JH}/console`)).toContain('Timeout expired while waiting for reply from target cell\nCreated cell "other"\n');
  });

  it('after a destroy too, and the polling round is configurable (the wait follows it)', async () => {
    const m = await tempMachine();
    activeCell(m, 'patient.cell', 'patient', [1], 1_000_000n);
    otherCell(m);
    await m.bringUp('enabled');
    await inProcess(m, ['cell', 'create', '/etc/jailhouse/other.cell'], ['cell', 'create', '/etc/jailhouse/patient.cell'], ['cell', 'start', 'patient']);
    await m.setCellReply('patient', 'silent');
    await m.setTimings({ replyPollNs: 300 });
    expect(await m.run('jailhouse', ['cell', 'destroy', 'other'])).toMatchObject({ code: 0, stderr: '' });
    expect(read(m, `${JH}/cells/2/state`)).toBe('failed');
    const destroy = (await m.readLog()).find((e) => e.op === 'jailhouse cell destroy');
    // destroyMs (20) plus 1 000 000 rounds of 300 ns.
    expect(destroy?.lockedMs).toBeGreaterThanOrEqual(300);
  });
});

describe('row 2: the same kind of cell with msg_reply_timeout 0 freezes the whole root side', () => {
  it('cell shutdown never returns; every later stand-in and sysfs change waits for good; the inmate runs on; destroying the machine ends it all', async () => {
    const m = await tempMachine();
    // The example's nuttx cell made non-passive, its reply timeout 0 (waits forever).
    writeFileSync(join(m.dir, 'etc/jailhouse/nuttx-active.cell'), encodeConfig({ ...nuttxCellConfig(EXAMPLE), flags: [], msgReplyTimeout: 0n }));
    await m.bringUp('enabled');
    await inProcess(m, ['cell', 'create', '/etc/jailhouse/nuttx-active.cell'], ['cell', 'load', 'nuttx', '/opt/crtos/nuttx.bin'], ['cell', 'start', 'nuttx']);
    // The inmate up (its guest listening) before the root side freezes, so that it can be asked below.
    const endpoint = m.readinessEndpoint('nuttx')!;
    await until('the inmate to listen', () => accepts(endpoint), { sources: [every(20)], timeoutMs: 20_000 });
    await m.setCellReply('nuttx', 'silent');
    const shutdown = m.run('jailhouse', ['cell', 'shutdown', 'nuttx']);
    await untilMachine(m, 'the shutdown to hang', async () => (await m.readLog()).some((e) => e.result === 'hang'));
    expect((await m.readLog()).find((e) => e.result === 'hang')).toMatchObject({ op: 'jailhouse cell shutdown', detail: { frozen: { cell: 'nuttx', by: 'the shutdown request' } } });
    expect((await m.state()).jailhouse.frozen).toMatchObject({ cell: 'nuttx' });
    // Not even `cell list` (no ioctl) or another module load runs any more.
    let ended = false;
    const list = m.run('jailhouse', ['cell', 'list']).then((r) => ((ended = true), r));
    const inproc = m.runInProcess('modprobe', ['shadow']).then(
      () => 'ran',
      () => 'failed',
    );
    await untilMachine(m, 'the later commands to wait in the frozen machine', () => readdirSync(join(m.dir, '.sim')).filter((n) => n.startsWith('frozen.waiting.')).length >= 2, { timeoutMs: 10_000 });
    expect(ended).toBe(false);
    // The inmate still answers on its endpoint.
    const pong = await new Promise<string>((resolve, reject) => {
      const socket = connect(endpoint.port, endpoint.host, () => socket.write('PING\n'));
      socket.on('data', (d) => {
        resolve(d.toString());
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(pong).toBe('PONG\n');
    expect(read(m, `${JH}/cells/1/state`)).toBe('running');
    // Only destroying the machine ends the waits (the hung call and the blocked ones fail).
    await destroySimMachine(m.dir);
    expect((await shutdown).code).not.toBe(0);
    expect((await list).code).not.toBe(0);
    expect(await inproc).toBe('failed');
    expect(existsSync(m.dir)).toBe(false);
  });

  it('a create next to such a cell freezes too, in the reconfiguration message', async () => {
    const m = await tempMachine();
    activeCell(m, 'silent0.cell', 'silent0', [1], 0n);
    otherCell(m);
    await m.bringUp('enabled');
    await inProcess(m, ['cell', 'create', '/etc/jailhouse/silent0.cell'], ['cell', 'start', 'silent0']);
    await m.setCellReply('silent0', 'silent');
    const create = m.run('jailhouse', ['cell', 'create', '/etc/jailhouse/other.cell']);
    await untilMachine(m, 'the create to hang', async () => (await m.readLog()).some((e) => e.result === 'hang'));
    expect((await m.readLog()).find((e) => e.result === 'hang')).toMatchObject({ op: 'jailhouse cell create', detail: { frozen: { cell: 'silent0', by: 'the reconfiguration message' } } });
    await destroySimMachine(m.dir);
    expect((await create).code).not.toBe(0);
  });
});

describe('row 3: state changes take the real hypervisor\'s time', () => {
  it('with the real timings: destroy reads invalid ~0.5 s; disable removes cells/N ~1 s before enabled reads 0', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    await m.setTimings({ destroyMs: 500, disableMs: 1000 });
    const destroy = await observeWhile(() => read(m, `${JH}/cells/1/state`), m.run('jailhouse', ['cell', 'destroy', 'nuttx']));
    expect(destroy.result.code).toBe(0);
    expect(destroy.seen).toEqual(['running', 'invalid', '-']);
    expect((await m.readLog()).find((e) => e.op === 'jailhouse cell destroy')?.lockedMs).toBeGreaterThanOrEqual(500);
    await inProcess(m, ['cell', 'create', '/etc/jailhouse/nuttx.cell']);
    // `enabled`, and the cells' directories (non-root ones, then the root cell's).
    const look = () => {
      const ids = existsSync(join(m.dir, JH, 'cells')) ? readdirSync(join(m.dir, JH, 'cells')).filter((n) => /^\d+$/.test(n)) : [];
      return `enabled ${read(m, `${JH}/enabled`)}, ${ids.includes('1') ? 'cell' : 'no cell'}, ${ids.includes('0') ? 'root' : 'no root'}`;
    };
    const disable = await observeWhile(look, m.run('jailhouse', ['disable']));
    expect(disable.seen[0]).toBe('enabled 1, cell, root');
    expect(disable.seen).toContain('enabled 1, no cell, root');
    expect(disable.seen.at(-1)).toBe('enabled 0, no cell, no root');
    expect((await m.readLog()).find((e) => e.op === 'jailhouse disable')?.lockedMs).toBeGreaterThanOrEqual(1000);
  });
});

describe('row 4: an inmate that faults in its first instructions', () => {
  it('is failed, with its CPUs, when `cell start` returns; no inmate listens', async () => {
    const m = await tempMachine();
    await m.setCellFailures([{ cell: 'nuttx', atStart: true }]);
    await m.bringUp('loaded');
    expect(await m.run('jailhouse', ['cell', 'start', 'nuttx'])).toMatchObject({ code: 0, stderr: '' });
    expect(machineFile(m, `${JH}/cells/1/state`)).toBe('failed\n');
    expect(machineFile(m, `${JH}/cells/1/cpus_failed_list`)).toBe('3\n');
    expect(m.inmate('nuttx')).toBeUndefined();
  });
});

/** The counters the upstream driver registers per architecture (driver/sysfs.c). */
const ARM64_COUNTERS = ['vmexits_hypercall', 'vmexits_maintenance', 'vmexits_management', 'vmexits_mmio', 'vmexits_psci', 'vmexits_smccc', 'vmexits_total', 'vmexits_virt_irq', 'vmexits_virt_sgi'];
const X86_COUNTERS = [
  'vmexits_cpuid',
  'vmexits_cr',
  'vmexits_exception',
  'vmexits_hypercall',
  'vmexits_management',
  'vmexits_mmio',
  'vmexits_msr_other',
  'vmexits_msr_x2apic_icr',
  'vmexits_pio',
  'vmexits_total',
  'vmexits_xapic',
  'vmexits_xsetbv',
];

function readCounters(m: SimMachine, dir: string): Record<string, number> {
  const full = join(m.dir, dir);
  return Object.fromEntries(
    readdirSync(full)
      .filter((n) => !n.startsWith('cpu') && !n.startsWith('.'))
      .map((n) => [n, Number(readFileSync(join(full, n), 'utf8'))]),
  );
}

const sumOfOthers = (c: Record<string, number>) => Object.entries(c).reduce((n, [k, v]) => n + (k === 'vmexits_total' ? 0 : v), 0);

/**
 * The counters of one directory as one set: sysfs reads them one file at a time, so a reader
 * racing the update it was woken by can mix two moments. A few tries give a set of one moment,
 * whose total is the sum of the others (the last try is returned whatever it holds).
 */
function counters(m: SimMachine, dir: string): Record<string, number> {
  let c = readCounters(m, dir);
  for (let i = 0; i < 100 && c.vmexits_total !== sumOfOthers(c); i++) c = readCounters(m, dir);
  return c;
}

describe('row 5: statistics per cell and per CPU', () => {
  it('x86: its 12 counters in cells/N/statistics and statistics/cpuM; total is the sum; they grow while the cell runs', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    const stats = `${JH}/cells/1/statistics`;
    expect(Object.keys(counters(m, stats)).sort()).toEqual(X86_COUNTERS);
    expect(readdirSync(join(m.dir, stats)).filter((n) => n.startsWith('cpu'))).toEqual(['cpu3']);
    expect(Object.keys(counters(m, `${stats}/cpu3`)).sort()).toEqual(X86_COUNTERS);
    // The root cell has them for each of its CPUs.
    expect(readdirSync(join(m.dir, `${JH}/cells/0/statistics`)).filter((n) => n.startsWith('cpu')).sort()).toEqual(['cpu0', 'cpu1', 'cpu2']);
    const first = counters(m, `${stats}/cpu3`);
    expect(first.vmexits_total).toBe(sumOfOthers(first));
    await untilMachine(m, 'the running cell to count more exits', () => Number(read(m, `${stats}/cpu3/vmexits_total`)) > first.vmexits_total!, { files: [`${stats}/cpu3/vmexits_total`], timeoutMs: 5000 });
    const later = counters(m, `${stats}/cpu3`);
    expect(later.vmexits_total).toBe(sumOfOthers(later));
    // The cell's own figures are its CPUs' (one CPU here).
    expect(counters(m, stats).vmexits_total).toBeGreaterThanOrEqual(first.vmexits_total!);
    expect(statSync(join(m.dir, stats, 'vmexits_total')).mode & 0o777).toBe(0o444);
    // Stopped, the cell keeps its counts.
    await inProcess(m, ['cell', 'shutdown', 'nuttx']);
    expect(counters(m, `${stats}/cpu3`).vmexits_total).toBeGreaterThanOrEqual(later.vmexits_total!);
  });

  it('arm64: the 9 counters the real machine showed', async () => {
    const m = await tempMachine({ arch: 'arm64', configRevision: 14, example: 'none', readiness: [], hypervisorMemory: { physStart: '0x7fc00000', size: '0x400000' } });
    const sys = loadFixture('qemu-arm64.yaml') as SystemConfig;
    writeFileSync(join(m.dir, 'qemu-arm64.cell'), encodeConfig({ ...sys, rootCell: { ...sys.rootCell, cpus: [0, 1, 2, 3] } }));
    await m.runInProcess('modprobe', ['jailhouse']);
    expect((await m.runInProcess('jailhouse', ['enable', '/qemu-arm64.cell'])).code).toBe(0);
    expect(Object.keys(counters(m, `${JH}/cells/0/statistics`)).sort()).toEqual(ARM64_COUNTERS);
    expect(Object.keys(counters(m, `${JH}/cells/0/statistics/cpu2`)).sort()).toEqual(ARM64_COUNTERS);
  });
});

describe('row 6: sysfs attributes', () => {
  it('read-only attributes, core 0400 kept after disable, a uevent file and the module link', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    const mode = (p: string) => statSync(join(m.dir, p)).mode & 0o777;
    expect(mode(`${JH}/cells/1/state`)).toBe(0o444);
    expect(mode(`${JH}/uevent`)).toBe(0o644);
    expect(lstatSync(join(m.dir, JH, 'module')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(m.dir, JH, 'module'))).toBe('../../module/jailhouse');
    expect(statSync(join(m.dir, JH, 'module')).isDirectory()).toBe(true);
    expect(await m.run('jailhouse', ['disable'])).toMatchObject({ code: 0 });
    expect(mode(`${JH}/core`)).toBe(0o400);
    expect(existsSync(join(m.dir, JH, 'uevent'))).toBe(true);
    expect((await m.runInProcess('rmmod', ['jailhouse'])).code).toBe(0);
    expect(existsSync(join(m.dir, JH))).toBe(false);
  });
});

describe('row 7: the console', () => {
  it('holds the hypervisor\'s messages in upstream\'s shapes, in a 2 KB ring that keeps the tail of the shutdown', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    const boot = (await m.run('jailhouse', ['console'])).stdout;
    expect(boot).toMatch(/^\nInitializing Jailhouse hypervisor v0\.12 on CPU 0\nCode location: 0x[0-9a-f]+\nPage pool usage after early setup: mem \d+\/\d+, remap \d+\/131072\nInitializing processors:\n CPU 0\.\.\. OK\n CPU 1\.\.\. OK\n CPU 2\.\.\. OK\n CPU 3\.\.\. OK\n/);
    expect(boot).toMatch(/Initializing unit: PCI\n(.|\n)*Page pool usage after late setup: mem \d+\/\d+, remap \d+\/131072\nActivating hypervisor\n(.|\n)*Created cell "nuttx"\nPage pool usage after cell creation: mem \d+\/\d+, remap \d+\/131072\nStarted cell "nuttx"\n$/);
    // Enough cycles to overflow the ring, then the disable.
    for (let i = 0; i < 30; i++) await inProcess(m, ['cell', 'load', 'nuttx', '/opt/crtos/nuttx.bin'], ['cell', 'start', 'nuttx']);
    await inProcess(m, ['cell', 'destroy', 'nuttx']);
    expect(machineFile(m, `${JH}/console`)).toMatch(/Closing cell "nuttx"\nPage pool usage after cell destruction: mem \d+\/\d+, remap \d+\/131072\n$/);
    await inProcess(m, ['disable']);
    const after = (await m.run('jailhouse', ['console'])).stdout;
    expect(after).toHaveLength(2048);
    expect(after.startsWith('\nInitializing')).toBe(false);
    expect(after.endsWith('Shutting down hypervisor\n Releasing CPU 0\n Releasing CPU 1\n Releasing CPU 2\n Releasing CPU 3\n')).toBe(true);
  });
});

describe('row 8: memory pools', () => {
  it('sized from the configuration as the hypervisor does: 994/144 pages and 131072/528 on the reference machine (16 CPUs, 4 MiB)', async () => {
    const m = await tempMachine({ arch: 'arm64', cpus: 16, configRevision: 14, example: 'none', readiness: [], hypervisorMemory: { physStart: '0x7fc00000', size: '0x400000' } });
    const sys = loadFixture('qemu-arm64.yaml') as SystemConfig;
    // Upstream master's qemu-arm64 root cell has 16 CPUs (the fixture keeps an older 4).
    writeFileSync(join(m.dir, 'qemu-arm64.cell'), encodeConfig({ ...sys, rootCell: { ...sys.rootCell, cpus: [...Array(16).keys()] } }));
    writeFileSync(join(m.dir, 'gic-demo.cell'), encodeConfig(loadFixture('gic-demo-arm64.yaml')));
    await m.runInProcess('modprobe', ['jailhouse']);
    expect((await m.runInProcess('jailhouse', ['enable', '/qemu-arm64.cell'])).code).toBe(0);
    const pool = () => ['mem_pool_size', 'mem_pool_used', 'remap_pool_size', 'remap_pool_used'].map((f) => Number(read(m, `${JH}/${f}`)));
    const [memSize, memUsed, remapSize, remapUsed] = pool();
    expect(memSize).toBe(994);
    // The real machine: 144 in use; the simulator's page tables are an estimate of the same order.
    expect(memUsed).toBeGreaterThanOrEqual(130);
    expect(memUsed).toBeLessThanOrEqual(160);
    expect([remapSize, remapUsed]).toEqual([131072, 528]);
    // A cell takes pages at create and gives them back at destroy.
    expect((await m.runInProcess('jailhouse', ['cell', 'create', '/gic-demo.cell'])).code).toBe(0);
    expect(pool()[1]).toBeGreaterThan(memUsed!);
    expect((await m.runInProcess('jailhouse', ['cell', 'destroy', '1'])).code).toBe(0);
    expect(pool()[1]).toBe(memUsed);
  });
});

/** Whether something accepts a TCP connection at the endpoint now. */
function accepts(endpoint: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(endpoint.port, endpoint.host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
