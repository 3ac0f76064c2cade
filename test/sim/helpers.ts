/** Shared by the simulator and host tests: temp machines that clean up after themselves. */
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { changesOf, every, until, type WakeSource } from '../helpers/wait-for.js';
import { createSimMachine, destroySimMachine, type MachineDescription, type SimMachine } from '../../src/sim/index.js';

const created: string[] = [];
afterAll(async () => {
  await Promise.all(
    created.splice(0).map(async (dir) => {
      await destroySimMachine(dir);
      await rm(dirname(dir), { recursive: true, force: true }); // made for it by tempMachine
    }),
  );
});

export async function tempMachine(description?: Partial<MachineDescription>): Promise<SimMachine> {
  const dir = join(mkdtempSync(join(tmpdir(), 'crtos-sim-')), 'machine');
  created.push(dir);
  return createSimMachine(dir, description);
}

/** A sysfs/procfs file of the machine, or null when it does not exist. */
export function machineFile(m: SimMachine, machinePath: string): string | null {
  const full = join(m.dir, machinePath);
  return existsSync(full) ? readFileSync(full, 'utf8') : null;
}

/**
 * What changes when the machine does: its directory (ops.log appended, machine.json), its hidden
 * state (.sim/state.json renamed over), and the directories of the machine `files` a test reads
 * (sysfs and procfs are rendered after the state is written, so a test reading them watches them).
 */
export function machineChanges(m: SimMachine, ...files: string[]): WakeSource[] {
  return [changesOf(m.dir), changesOf(join(m.dir, '.sim')), ...files.map((f) => changesOf(dirname(join(m.dir, f))))];
}

/**
 * Waits for `check` on the machine, woken by machineChanges(m, ...files). The deadline only bounds
 * a wait that failed: the stand-ins are Node.js processes (the tool server, a cell's runner) that
 * took more than 5 s to start on a busy 2-core machine (the suite on two workers beside a CPU hog).
 */
export function untilMachine(m: SimMachine, what: string, check: () => boolean | Promise<boolean>, opts: { files?: string[]; timeoutMs?: number } = {}): Promise<void> {
  return until(what, check, { sources: machineChanges(m, ...(opts.files ?? [])), timeoutMs: opts.timeoutMs ?? 20_000 });
}

/**
 * Writes to a FIFO once its reader has it open: O_NONBLOCK fails (ENXIO) while nobody reads,
 * where a plain open would block the whole test process.
 */
export async function tell(fifo: string, text: string): Promise<void> {
  let fd: number | undefined;
  // Nothing announces that a reader opened the FIFO: look on each tick.
  await until(`a reader of ${fifo}`, () => {
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      return true;
    } catch {
      return false;
    }
  }, { sources: [every(5)], timeoutMs: 10_000 });
  writeSync(fd!, text);
  closeSync(fd!);
}

/** An arm64 board's identity (i.MX8M Plus EVK, 2 GiB from 1 GiB, the hypervisor's 64 MiB at 0x7c000000), for identity and facts tests. */
export const IMX8MP_BOARD = {
  arch: 'arm64',
  hypervisorMemory: { physStart: '0x7c000000', size: '0x4000000' },
  identity: {
    hostname: 'rt-box-7',
    machineId: '0123456789abcdef0123456789abcdef',
    kernelRelease: '6.1.0-rt',
    kernelCommandLine: 'console=ttymxc1 mem=1G',
    board: { model: 'NXP i.MX8MPlus EVK board', compatible: ['fsl,imx8mp-evk', 'fsl,imx8mp'] },
    memoryBytes: 2 * 1024 ** 3,
  },
} satisfies Partial<MachineDescription>;
