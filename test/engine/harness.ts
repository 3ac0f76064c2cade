/**
 * Test fixture: a simulated machine with the cRTOS example units (readiness pointed at the
 * machine's loopback endpoint, never at 172.16.x), and a Manager driving it through the Linux host.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLinuxHost } from '../../src/host/index.js';
import { createSimMachine, destroySimMachine, type SimMachine } from '../../src/sim/index.js';
import type { SimLogEntry } from '../../src/sim/index.js';
import { paths } from '../../src/sim/store.js';
import { loadUnits } from '../../src/units/index.js';
import { Manager, type ManagerOptions } from '../../src/engine/manager.js';
import { fileStateStore } from '../../src/engine/state-file.js';
import type { MachineDescription } from '../../src/sim/index.js';
import type { UnitStatus } from '../../src/engine/manager-api.js';
import { changesOf, eventsOf, every, until as untilWoken, type WakeSource } from '../helpers/wait-for.js';

export interface Fixture {
  dir: string;
  machine: SimMachine;
  unitsDir: string;
  stateDir: string;
  manager(opts?: Partial<ManagerOptions>): Manager;
  /** Operations of the machine's log (not reads such as `ip addr show`), as "op args…". */
  ops(): Promise<string[]>;
  writeUnit(file: string, text: string): void;
  readUnit(file: string): string;
  cleanup(): Promise<void>;
}

const READ_OPS = new Set(['ip addr show', 'ip link show', 'jailhouse cell list', 'jailhouse console']);

export function opLine(e: SimLogEntry): string {
  return [e.op, ...e.args].join(' ') + (e.result === 'ok' ? '' : ` => ${e.result}`);
}

/** The simulated machine each fixture's manager drives, for settle. */
const machines = new WeakMap<Manager, SimMachine>();
/** PIDs of the stand-in loaders each machine's log has shown, cleared since or not. */
const logged = new WeakMap<SimMachine, Set<unknown>>();

export async function makeFixture(opts: { description?: Partial<MachineDescription>; units?: string } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'crtos-engine-'));
  const machine = await createSimMachine(join(dir, 'machine'), opts.description);
  const unitsDir = join(dir, 'units');
  mkdirSync(unitsDir, { recursive: true });
  const stateDir = join(dir, 'state');
  const endpoint = machine.readinessEndpoint('nuttx');
  const source = opts.units ?? join(import.meta.dirname, '../../units/crtos');
  for (const f of readdirSync(source)) {
    let text = readFileSync(join(source, f), 'utf8');
    if (endpoint) text = text.replace(/172\.16\.0\.2:42/g, `${endpoint.host}:${endpoint.port}`);
    writeFileSync(join(unitsDir, f), text);
  }
  const managers: Manager[] = [];
  return {
    dir,
    machine,
    unitsDir,
    stateDir,
    manager(extra = {}) {
      const host = createLinuxHost({ root: machine.dir, env: machine.env, toolTimeoutMs: 5000, exitPollMs: 50 });
      const m = new Manager({
        host,
        loadUnits: () => loadUnits({ directories: [unitsDir] }),
        store: fileStateStore(stateDir),
        unitDirectories: [unitsDir],
        pollIntervalMs: 100,
        loaderEnv: { PATH: machine.env.PATH ?? '' },
        ...extra,
      });
      managers.push(m);
      machines.set(m, machine);
      return m;
    },
    async ops() {
      return (await machine.readLog()).filter((e) => !READ_OPS.has(e.op)).map(opLine);
    },
    writeUnit(file, text) {
      writeFileSync(join(unitsDir, file), text);
    },
    readUnit(file) {
      return readFileSync(join(unitsDir, file), 'utf8');
    },
    async cleanup() {
      // A closed manager leaves its loaders running (a restarted crtosd adopts them): they go with
      // the machine here, each with its process group, or a looping one outlives the test run.
      const loaders = managers.flatMap((m) => m.listUnits().map(pidOf)).filter((pid) => pid > 0);
      for (const m of managers) m.close();
      for (const pid of loaders) killGroup(pid);
      await destroySimMachine(machine.dir).catch(() => undefined);
    },
  };
}

/** A machine with no unit files: the test writes its own (scriptLoader). */
export function makeEmptyFixture(): Promise<Fixture> {
  return makeFixture({ units: mkdtempSync(join(tmpdir(), 'crtos-no-units-')) });
}

/** A Loader unit NAME that runs `script` with sh (as /opt/test/NAME.sh on the machine), with more unit fields; its id. */
export function scriptLoader(f: Fixture, name: string, script: string, fields = ''): string {
  const file = join(f.machine.dir, `/opt/test/${name}.sh`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  f.writeUnit(`${name}.yaml`, `kind: Loader\nname: ${name}\nexec: [/opt/test/${name}.sh]\n${fields}\n`);
  return `${name}.loader`;
}

/** Every unit file removed and reloaded, so the manager stops what it started; then it and the machine go. */
export async function stopAllAndCleanup(f: Fixture, m: Manager | undefined): Promise<void> {
  for (const file of readdirSync(f.unitsDir)) rmSync(join(f.unitsDir, file));
  await m?.reload();
  m?.close();
  await f.cleanup();
}

/** What the manager announces: a pass or a job beginning or ending, a unit or the daemon changing. */
export function managerEvents(manager: Manager): WakeSource {
  return eventsOf(manager, 'jobNew', 'jobRemoved', 'unitChanged', 'daemonChanged', 'log');
}

/**
 * Waits until the manager has no pass running or queued and no restart pending, re-checked on its
 * own events (each pass ends with daemonChanged; a restart timer firing starts a pass). It returns
 * as soon as that holds: what the manager notices later on its own (a poll seeing drift, a child
 * exiting) is waited for by the test through untilUnit or until with that event.
 */
export async function settle(manager: Manager, timeoutMs = 25_000): Promise<void> {
  const machine = machines.get(manager);
  await untilWoken(
    'the manager to settle (no pass queued, no restart pending, each stand-in loader it runs logged its start)',
    async () => {
      await manager.idle();
      if (!manager.settled()) return false;
      return !machine || (await standInsLogged(manager, machine));
    },
    { sources: [managerEvents(manager), ...(machine ? [changesOf(paths.log(machine.dir))] : [])], timeoutMs, detail: () => JSON.stringify(states(manager)) },
  );
}

/**
 * Whether each running stand-in loader has logged how its start went (resident, or why not). A
 * loader is active once its wrappers have exec'd, before the stand-in connects to its cell and
 * logs: a test that clears the machine's log after settle must not find that line in it later.
 * The PIDs seen logged are remembered per machine, as a test clears the log while they run on.
 */
async function standInsLogged(manager: Manager, machine: SimMachine): Promise<boolean> {
  const known = logged.get(machine) ?? new Set<unknown>();
  logged.set(machine, known);
  const standIn = join(machine.dir, 'opt/crtos/loader');
  const pids = manager.listUnits().filter((u) => u.activeState === 'active').map(pidOf).filter((pid) => pid > 0);
  const pending = pids.filter((pid) => {
    if (known.has(pid)) return false;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return false; // gone: nothing more to log
    }
    // Its wrapper script (sh standIn …), or the stand-in itself (node bundle loader …).
    return argv.slice(0, 2).includes(standIn) || (argv[0] === process.execPath && argv[2] === 'loader');
  });
  if (pending.length === 0) return true;
  for (const e of await machine.readLog()) if (e.op === 'loader') known.add(e.detail?.pid);
  return pending.every((pid) => known.has(pid));
}

/**
 * Resolves once the unit's status satisfies `cond`: checked now, then on each unitChanged. For
 * what the manager notices on its own (a poll, a child exiting), instead of guessing a delay.
 */
export function untilUnit(manager: Manager, id: string, cond: (status: UnitStatus) => boolean, timeoutMs = 20_000): Promise<UnitStatus> {
  return new Promise((resolve, reject) => {
    const check = (status: UnitStatus | undefined): boolean => {
      if (!status || status.id !== id || !cond(status)) return false;
      clearTimeout(timer);
      manager.off('unitChanged', check);
      resolve(status);
      return true;
    };
    const timer = setTimeout(() => {
      manager.off('unitChanged', check);
      reject(new Error(`${id} did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(manager.getUnit(id))}`));
    }, timeoutMs);
    manager.on('unitChanged', check);
    check(manager.getUnit(id));
  });
}

export function states(manager: Manager): Record<string, string> {
  const entries = manager.listUnits().map((u): [string, string] => [u.id, `${u.activeState}/${u.result}`]);
  return Object.fromEntries(entries.sort((a, b) => a[0].localeCompare(b[0])));
}

export const ALL_ACTIVE = {
  'crtos-link.network': 'active/success',
  'crtos-net.link': 'active/success',
  'hello.loader': 'active/success',
  'ivshmem-net.driver': 'active/success',
  'jailhouse.driver': 'active/success',
  'jailhouse.hypervisor': 'active/success',
  'nuttx.cell': 'active/success',
  'nuttx.image': 'active/success',
  'shadow.driver': 'active/success',
  'shadow.link': 'active/success',
};

/** The hand-written cRTOS deployment (.cell files, no Link units), for the tests of that flavour. */
export const HANDWRITTEN_UNITS = join(import.meta.dirname, '../../units/crtos-handwritten');

/** ALL_ACTIVE of units/crtos-handwritten: the same deployment without its Link units. */
export const ALL_ACTIVE_HANDWRITTEN: Record<string, string> = Object.fromEntries(Object.entries(ALL_ACTIVE).filter(([id]) => !id.endsWith('.link')));

/**
 * Unit text edits that make supervision fast enough for tests, and with `opTimeout` every
 * operation's timeout short (for the hang cases). Tests that count attempts leave the timeouts
 * alone: a slow CI machine must not turn an attempt into a timeout.
 */
export function fastSupervision(f: Fixture, opTimeout?: string): void {
  const fast = 'restartSec: 100ms\nrestartMaxSec: 400ms\nstartLimit: { burst: 3, interval: 20s }';
  const t = opTimeout ? `\ntimeout: ${opTimeout}` : '';
  f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('onFailure: restart', `onFailure: restart\n${fast}${t}`).replace(/timeout: 10s \}/, opTimeout ? `timeout: ${opTimeout} }` : '$&'));
  f.writeUnit('hello.yaml', f.readUnit('hello.yaml').replace('restart: on-failure', `restart: on-failure\n${fast}`));
  // Drivers, the hypervisor and the network retry a failed start the same way.
  for (const file of ['jailhouse.yaml', 'drivers.yaml', 'network.yaml']) f.writeUnit(file, f.readUnit(file).replace(/^(name: .*)$/gm, `$1\n${fast}`));
  if (!opTimeout) return;
  f.writeUnit('jailhouse.yaml', f.readUnit('jailhouse.yaml').replace(/^(module: jailhouse).*$/m, `$1${t}`).replace(/^(system: .*)$/m, `$1${t}`));
  f.writeUnit('drivers.yaml', f.readUnit('drivers.yaml').replace(/^(path: .*)$/gm, `$1${t}`));
  f.writeUnit('network.yaml', f.readUnit('network.yaml').replace(/^(address: .*)$/m, `$1${t}`));
}

/**
 * Checks `check` until it holds, with a deadline, on each wake-up of `sources`: the manager's
 * events, changesOf the machine's ops log or a file. The default tick is only for states nothing
 * announces (/proc, a socket).
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition', sources: WakeSource[] = [every(50)]): Promise<void> {
  await untilWoken(what, check, { sources, timeoutMs });
}

/** Wakes on each operation the simulated machine logs. */
export function machineOps(f: Fixture): WakeSource {
  return changesOf(paths.log(f.machine.dir));
}

/** A loader's MainPID as its status shows it (0 when it has none, or the status is not a loader's). */
function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Gone already, or not a group leader.
    }
  }
}

export function pidOf(s: UnitStatus | undefined): number {
  const pid = s?.details.pid;
  return typeof pid === 'number' ? pid : 0;
}
