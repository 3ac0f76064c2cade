/**
 * crtosd SIGKILLed while one of its tools hangs, then started again (issue 10, item 5): the new
 * daemon finds the hung tool in the state directory's records and kills it (with its process
 * group, once the tool's own deadline passed) before it runs anything itself, and the machine then
 * converges. Each Jailhouse command and `ip` of the example, hanging once.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fastSupervision, makeFixture, type Fixture } from '../engine/harness.js';
import { alive, HANG_CASES, hungEntry, opsLog, reachBy } from '../engine/hang-cases.js';
import { every, until } from '../helpers/wait-for.js';
import { machineChanges, outputOf, startDaemon } from './run.js';

let fixture: Fixture | undefined;
const daemons: ReturnType<typeof startDaemon>[] = [];
const hungPids: number[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  for (const pid of [...hungPids.splice(0), ...loaderPids(fixture)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await fixture?.cleanup();
  fixture = undefined;
});

/** Live stand-in loader processes of this machine. */
function loaderPids(f: Fixture | undefined): number[] {
  if (!f) return [];
  const mark = `CRTOS_SIM_DIR=${f.machine.dir}\0`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!alive(Number(entry))) continue;
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('loader\0/opt/crtos/apps/hello')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(mark)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The example is up: modules, cell running, link configured, one loader. */
async function up(f: Fixture): Promise<boolean> {
  const s = await f.machine.state();
  const link = s.interfaces.find((i) => i.name === 'enp0s13');
  return (
    s.jailhouse.cells.some((c) => c.name === 'nuttx' && c.state === 'running') &&
    s.modules.map((m) => m.name).sort().join() === 'ivshmem_net,jailhouse,shadow' &&
    link?.up === true &&
    link.addresses.includes('172.16.0.1/24') &&
    loaderPids(f).length === 1
  );
}

/**
 * What wakes a look at up(): the machine and the daemon change as the bring-up goes; the loader
 * count comes from /proc, which announces nothing, so a tick covers a loader that exits or
 * appears without a change of its own.
 */
function upSources(f: Fixture, d: ReturnType<typeof startDaemon>) {
  return [...machineChanges(f), ...outputOf(d.child), every(100)];
}

interface JsonLine {
  time: number;
  level: number;
  msg: string;
  unit?: string;
}

function lines(output: string): JsonLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonLine);
}

/**
 * Deadlines of the waits, which bound only a case that failed: on the busy 2-core machine (two
 * vitest workers beside a CPU hog and the other suites) crtosd took 26 s to run its first tool,
 * and a restarted one more than 15 s to kill the hung tool.
 */
const WAIT_MS = 60_000;

describe('crtosd killed while a tool hangs, then started again', () => {
  test.each(HANG_CASES)('$op ($via)', async (c) => {
    const f = (fixture = await makeFixture());
    fastSupervision(f, '2s');
    const first = startDaemon(f);
    daemons.push(first);
    if (c.via !== 'boot') {
      await until('the first bring-up', () => up(f), { sources: upSources(f, first), timeoutMs: WAIT_MS, detail: first.output });
      await f.machine.setFaults([{ op: c.op, hang: true, times: 1 }]);
      reachBy(f, c.via); // the daemon watches its unit files
    } else await f.machine.setFaults([{ op: c.op, hang: true, times: 1 }]);
    await until(`${c.op} to hang`, () => hungEntry(f, c.op) !== undefined, { sources: [...machineChanges(f), ...outputOf(first.child)], timeoutMs: WAIT_MS, detail: first.output });
    const hung = hungEntry(f, c.op)!;
    hungPids.push(hung.pid);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(alive(hung.pid), 'the hung tool outlives the daemon that ran it').toBe(true);

    const restartedAt = Date.now();
    const second = startDaemon(f);
    daemons.push(second);
    // Not our child, so no exit event: /proc is looked at on each tick.
    await until(`the new daemon to kill pid ${hung.pid}`, () => !alive(hung.pid), { sources: [every(20)], timeoutMs: WAIT_MS, detail: second.output });
    const context = () =>
      `${second.output()}\n${opsLog(f)
        .map((e) => `${e.start?.toFixed(0) ?? '-'} ${e.op} ${e.args.join(' ')} ${e.result}`)
        .join('\n')}`;
    // Converged once the new loader has reached its program and logged that it is resident: until
    // then the process is between execs (chrt, the loader script, node), and /proc shows an empty
    // command line for a moment during each exec.
    const resident = () => opsLog(f).some((e) => e.op === 'loader' && e.result === 'ok' && (e.start ?? 0) > restartedAt);
    await until('convergence', async () => resident() && (await up(f)), { sources: upSources(f, second), timeoutMs: WAIT_MS, detail: context });

    // It was killed by the new daemon, which said so, and which ran nothing before.
    const killed = lines(second.output()).find((l) => l.msg.startsWith('killed `') && l.msg.includes(`(pid ${hung.pid})`));
    expect(killed, context()).toBeDefined();
    expect(killed!.level).toBe(40);
    if (c.unit) expect(killed!.unit).toBe(c.unit);
    const early = opsLog(f).filter((e) => (e.start ?? 0) >= restartedAt && (e.start ?? 0) < killed!.time);
    expect(early.map((e) => `${e.op} ${e.args.join(' ')}`), context()).toEqual([]);
    // Nothing it did completed late; nothing was done twice because of it; its record is gone.
    expect(opsLog(f).filter((e) => e.detail?.pid === hung.pid).map((e) => e.result)).toEqual(['hang']);
    expect(opsLog(f).filter((e) => e.result === 'EEXIST')).toEqual([]);
    const records = readdirSync(join(f.stateDir, 'tools')).filter((n) => n.startsWith(`${hung.pid}-`));
    expect(records).toEqual([]);
    expect(loaderPids(f).length, context()).toBe(1);
  }, 4 * WAIT_MS + 30_000);
});
