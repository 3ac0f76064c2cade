/** What the backend tests share: a simulated machine with a Host on it, and the contexts the port takes. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createLinuxHost } from '../../src/host/index.js';
import { createSimMachine, destroySimMachine, type MachineDescription, type SimMachine } from '../../src/sim/index.js';
import type { Host } from '../../src/host/host.js';
import { loadUnits } from '../../src/units/index.js';
import type { UnitSet } from '../../src/units/types.js';
import type { DescribeContext, KindContext, StopContext } from '../../src/kinds/behaviour.js';
import type { UnitDescription } from '../../src/engine/types.js';
import { repoRoot } from '../units/helpers.js';

export interface SimHost {
  machine: SimMachine;
  host: Host;
  /** How many times the machine logged that operation (`jailhouse enable`, `insmod`). */
  count(op: string): Promise<number>;
  cleanup(): Promise<void>;
}

export async function simHost(description?: Partial<MachineDescription>): Promise<SimHost> {
  const dir = mkdtempSync(join(tmpdir(), 'crtos-backend-'));
  const machine = await createSimMachine(join(dir, 'machine'), description);
  const host = createLinuxHost({ root: machine.dir, env: machine.env, toolTimeoutMs: 5000, exitPollMs: 50 });
  return {
    machine,
    host,
    count: async (op) => (await machine.readLog()).filter((e) => e.op === op).length,
    cleanup: () => destroySimMachine(machine.dir).catch(() => undefined),
  };
}

/** The example units of units/NAME, loaded as crtosd loads them. */
export async function exampleSet(name: string): Promise<UnitSet> {
  const r = await loadUnits({ directories: [`units/${name}`], cwd: repoRoot });
  if (!r.set) throw new Error(`units/${name} does not load: ${JSON.stringify(r.problems)}`);
  return r.set;
}

/** A describe context reading the machine's files through the Host, as describeUnits does. */
export function describeContext(set: UnitSet, host: Host): DescribeContext {
  const memo = new Map<string, Promise<unknown>>();
  return {
    set,
    file: (path) => host.readFile(path).then((bytes) => ({ bytes, hash: createHash('sha256').update(bytes).digest('hex') }), (e: Error) => ({ error: e.message })),
    locate: (unit) => ({ file: unit.source.file, line: unit.source.line, column: unit.source.column }),
    shared: <T>(key: string, make: () => Promise<T>) => {
      if (!memo.has(key)) memo.set(key, make());
      return memo.get(key) as Promise<T>;
    },
    recorded: () => undefined,
  };
}

/** A stop context whose operations run unbounded (the Host's own limit still applies). */
export function stopContext(host: Host): StopContext {
  return { host, timed: (op) => (typeof op === 'function' ? op({}) : op), sleep: (ms) => new Promise((r) => setTimeout(r, ms)), log: () => undefined };
}

export function kindContext(host: Host, set: UnitSet, desc: Partial<UnitDescription> = {}): KindContext {
  return { ...stopContext(host), set, desc: { id: '', kind: '', fields: {}, digest: '', facts: {}, ...desc }, baseEnv: {} };
}
