/**
 * The synthetic deployment the benchmarks run: one Jailhouse hypervisor and N cells (CPU i each,
 * the example's NuttX image), a driver per cell and a loader per cell (a resident process), on a
 * simulated machine with N+2 CPUs. Machines go on a memory file system when there is one
 * (memoryTmpdir), as the sysfs, procfs and /run they stand for are.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createSimMachine, destroySimMachine, memoryTmpdir, nuttxCellConfig, type SimMachine } from '../src/sim/index.js';
import { encodeConfig, type CellConfig } from '../src/jailhouse/index.js';
import { createHash } from 'node:crypto';
import { nuttxImage } from '../src/sim/index.js';

export interface Synthetic {
  dir: string;
  machine: SimMachine;
  unitsDir: string;
  stateDir: string;
  cells: number;
}

export async function createSynthetic(cells: number): Promise<Synthetic> {
  const dir = mkdtempSync(join(memoryTmpdir(), 'crtos-bench-'));
  const cpus = cells + 2;
  const modules = [
    { name: 'jailhouse', installed: true, size: 45056, effect: 'jailhouse' as const },
    ...Array.from({ length: cells }, (_, i) => ({ name: `drv${i + 1}`, file: `/opt/bench/drv${i + 1}.ko`, size: 16384 })),
  ];
  const machine = await createSimMachine(join(dir, 'machine'), { cpus, modules, readiness: [], example: 'crtos' });
  const opts = { revision: 12 as const, arch: 'x86' as const, cpus, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };
  mkdirSync(join(machine.dir, 'opt/bench'), { recursive: true });
  const loader = join(machine.dir, 'opt/bench/loader');
  writeFileSync(loader, '#!/bin/sh\nexec sleep 1000000\n');
  chmodSync(loader, 0o755);
  const unitsDir = join(dir, 'units');
  mkdirSync(unitsDir, { recursive: true });
  const sha = createHash('sha256').update(nuttxImage()).digest('hex');
  const docs: string[] = [
    'kind: Driver\nname: jailhouse\nmodule: jailhouse\n',
    'kind: Hypervisor\nname: jailhouse\ntype: jailhouse\ndriver: jailhouse\nsystem: /etc/jailhouse/sysconfig.cell\n',
    `kind: Image\nname: rtos\npath: /opt/crtos/nuttx.bin\nsha256: ${sha}\n`,
  ];
  for (let i = 1; i <= cells; i++) {
    writeFileSync(join(machine.dir, `etc/jailhouse/c${i}.cell`), encodeConfig(syntheticCell(opts, i)));
    docs.push(`kind: Cell\nname: c${i}\nhypervisor: jailhouse\nconfig: /etc/jailhouse/c${i}.cell\nload: [{ image: rtos, address: 0x0 }]\n`);
    docs.push(`kind: Driver\nname: drv${i}\npath: /opt/bench/drv${i}.ko\nrequires: [jailhouse.hypervisor]\n`);
    docs.push(`kind: Loader\nname: l${i}\nexec: [/opt/bench/loader]\nenvironment: { CRTOS_UNIT: l${i}.loader }\nrequires: [c${i}.cell, drv${i}.driver]\nrestart: on-failure\n`);
  }
  writeFileSync(join(unitsDir, 'synthetic.yaml'), docs.join('---\n'));
  return { dir, machine, unitsDir, stateDir: join(dir, 'state'), cells };
}

/**
 * Cell i: the example's NuttX cell without its links, on CPU i with 16 MiB of its own memory, so
 * the set passes the checks crtosd runs before it applies one (the example's cell copied N times
 * would share its ivshmem devices and memory, which the hypervisor refuses).
 */
function syntheticCell(opts: Parameters<typeof nuttxCellConfig>[0], i: number): CellConfig {
  const base = nuttxCellConfig(opts);
  const ram = { physStart: 0x1_0000_0000n + BigInt(i) * 0x100_0000n, virtStart: 0n, size: 0x100_0000n, flags: ['READ', 'WRITE', 'EXECUTE', 'LOADABLE'] };
  const comm = base.memoryRegions.find((r) => r.flags.includes('COMM_REGION'))!;
  return { ...base, name: `c${i}`, cpus: [i], memoryRegions: [ram, comm], pciDevices: [] };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The cRTOS example on a fresh simulated machine, its readiness probe pointed at loopback. */
export async function createExample(): Promise<Synthetic> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(memoryTmpdir(), 'crtos-bench-'));
  const machine = await createSimMachine(join(dir, 'machine'));
  const unitsDir = join(dir, 'units');
  mkdirSync(unitsDir, { recursive: true });
  const endpoint = machine.readinessEndpoint('nuttx')!;
  // Benchmarks run bundled from build/bench with the repository as working directory.
  const source = join(process.cwd(), 'units/crtos');
  for (const f of readdirSync(source)) {
    writeFileSync(join(unitsDir, f), readFileSync(join(source, f), 'utf8').replace(/172\.16\.0\.2:42/g, `${endpoint.host}:${endpoint.port}`));
  }
  return { dir, machine, unitsDir, stateDir: join(dir, 'state'), cells: 1 };
}

/**
 * Removes a synthetic deployment: the machine (stopping its cell runners) and the units and state
 * beside it. Runners may still be writing as they exit, so the removal is tried again briefly.
 */
export async function disposeSynthetic(syn: Synthetic): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await destroySimMachine(syn.machine.dir);
      await rm(syn.dir, { recursive: true, force: true });
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The NODE_OPTIONS the packaged service runs crtosd with (packaging/systemd/crtosd.service). */
export const SERVICE_NODE_OPTIONS = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(process.cwd(), 'packaging/systemd/crtosd.service'), 'utf8'))?.[1] ?? '';

const USER_HZ = 100;

/** CPU seconds a process has used (user + system), from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / USER_HZ;
}

/** A `VmRSS`-style line of /proc/PID/status, in MB (NaN when missing). */
export function statusMb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** crtosd (the bundled daemon, as deployed) on the deployment, logging warnings only. */
export function startDaemon(syn: Synthetic, nodeOptions: string): ChildProcess {
  return spawn(process.execPath, [join(process.cwd(), 'dist/crtosd.mjs'), '--units', syn.unitsDir, '--root', syn.machine.dir, '--state-dir', syn.stateDir, '--log-level', 'warn'], {
    env: { ...syn.machine.env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

interface StateUnits {
  units: Record<string, { kind: string; phase: string; facts: { pid?: number } }>;
}

function stateUnits(syn: Synthetic): StateUnits['units'] {
  return (JSON.parse(readFileSync(join(syn.stateDir, 'state.json'), 'utf8')) as StateUnits).units;
}

/** Resolves once every cell runs and every loader is recorded active (checked every 250 ms); rejects after `timeoutMs`. */
export async function untilBroughtUp(syn: Synthetic, timeoutMs = 180_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const state = await syn.machine.state();
    let loaders = 0;
    try {
      loaders = Object.values(stateUnits(syn)).filter((u) => u.kind === 'Loader' && u.phase === 'active' && u.facts.pid).length;
    } catch {
      // not written yet
    }
    if (state.jailhouse.cells.filter((c) => c.state === 'running').length === syn.cells && loaders === syn.cells) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`bring-up did not finish within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops the daemon (SIGTERM) and kills the loaders it leaves running, as a deployment's own would outlive it. */
export async function stopDaemon(daemon: ChildProcess, syn: Synthetic): Promise<void> {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  for (const u of Object.values(stateUnits(syn))) {
    if (!u.facts.pid) continue;
    try {
      process.kill(u.facts.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
