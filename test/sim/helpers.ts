/** Shared by the simulator and host tests: temp machines that clean up after themselves. */
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSimMachine, destroySimMachine, type MachineDescription, type SimMachine } from '../../src/sim/index.js';

const created: string[] = [];
afterAll(async () => {
  await Promise.all(created.splice(0).map((dir) => destroySimMachine(dir)));
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

export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Writes to a FIFO once its reader has it open: O_NONBLOCK fails (ENXIO) while nobody reads,
 * where a plain open would block the whole test process.
 */
export async function tell(fifo: string, text: string): Promise<void> {
  let fd: number | undefined;
  await waitFor(() => {
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      return true;
    } catch {
      return false;
    }
  }, 10_000);
  writeSync(fd!, text);
  closeSync(fd!);
}
