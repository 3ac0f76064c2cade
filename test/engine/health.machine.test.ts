/**
 * The health monitor on the simulated machine, through the Manager: a hung cell (still `running`,
 * answering nothing) caught by its tcp liveness check and reloaded per its table, the counts kept
 * across a daemon restart and escalation counting on; a cell that keeps failing escalated
 * recover → cold → isolate, read on the machine's operation log; a loader that hangs caught by a
 * heartbeat and one that fails its exec check, each restarted. Every wait is on an event.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ALL_ACTIVE, fastSupervision, makeFixture, pidOf, settle, states, until, untilUnit, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import type { UnitStatus } from '../../src/engine/manager-api.js';
import { findView } from '../../src/kinds/views.js';
import { every } from '../helpers/wait-for.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

const counts = (s: UnitStatus | undefined, field: 'healthEvents' | 'healthActions'): Record<string, number> => (s?.details[field] as Record<string, number> | undefined) ?? {};
const messages = (m: Manager, id: string): string[] => m.unitLog(id, 0).map((l) => l.message);

/** `jailhouse cell shutdown`, `jailhouse disable`: the hypervisor operations since the log was cleared. */
async function jailhouseOps(f: Fixture): Promise<string[]> {
  return (await f.ops()).flatMap((o) => /^(jailhouse (?:cell \w+|disable|enable))\b/.exec(o)?.[1] ?? []);
}

/** Whether something accepts a connection there now. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** The guest of the running nuttx cell stops answering; the cell stays `running`. */
async function hangNuttx(f: Fixture): Promise<void> {
  const cell = (await f.machine.state()).jailhouse.cells.find((c) => c.name === 'nuttx');
  expect(cell?.state).toBe('running');
  expect(f.machine.hangCell('nuttx')).toBe(true);
}

const RECOVER_COLD_ISOLATE = (first: string) => `health:
  on: { ${first}: recover }
  levels:
    recover: { action: reload, limit: 3, window: 60s, then: cold }
    cold: { action: restart, limit: 2, window: 5min, then: isolate }
    isolate: { action: stop-hypervisor }
`;

describe('a hung cell', () => {
  test('is caught by its tcp liveness check and reloaded per its table; the counts survive a daemon restart and escalation counts on', async () => {
    const f = (fixture = await makeFixture());
    fastSupervision(f);
    const { host, port } = f.machine.readinessEndpoint('nuttx')!;
    f.writeUnit('nuttx.yaml', `${f.readUnit('nuttx.yaml')}liveness: { tcp: "${host}:${port}", period: 200ms, timeout: 200ms }\n${RECOVER_COLD_ISOLATE('liveness')}`);
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    await f.machine.clearLog();

    await hangNuttx(f);
    const caught = await untilUnit(m, 'nuttx.cell', (s) => counts(s, 'healthEvents').liveness === 1);
    expect(caught.lastError).toMatchObject({ code: 'ENGINE_LIVENESS_FAILED' });
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    // Reloaded in place (warm): never destroyed, and the machine still says it was hung, not failed.
    expect(await jailhouseOps(f)).toEqual(['jailhouse cell shutdown', 'jailhouse cell load', 'jailhouse cell start']);
    expect((await f.machine.readLog()).map((e) => e.op)).toContain('cell hung');
    expect(await answers(host, port)).toBe(true);
    const line = `health: liveness failed 3 times (tcp ${host}:${port}: connection refused or unreachable); level recover: reload (1 of 3 in 1min)`;
    expect(messages(m, 'nuttx.cell')).toContain(line);
    expect(m.getUnit('nuttx.cell')!.details).toMatchObject({
      healthEvents: { liveness: 1 },
      healthActions: { reload: 1 },
      healthLevel: 'recover',
      healthLastEvent: 'liveness',
      healthLastAction: 'reload',
      healthLastReason: `liveness failed 3 times (tcp ${host}:${port}: connection refused or unreachable)`,
    });
    expect(findView('Cell')!.statusLines(m.getUnit('nuttx.cell')!.details)).toContainEqual(['Health', 'events liveness 1; actions reload 1; level recover']);

    // A new daemon shows the same counts, and the second hang is recover's second action in its window.
    m.close();
    const again = f.manager();
    expect((await again.start()).ok).toBe(true);
    await settle(again);
    expect(again.getUnit('nuttx.cell')!.details).toMatchObject({ healthEvents: { liveness: 1 }, healthLevel: 'recover' });
    await f.machine.clearLog();
    await hangNuttx(f);
    await untilUnit(again, 'nuttx.cell', (s) => counts(s, 'healthEvents').liveness === 2);
    await settle(again);
    expect(messages(again, 'nuttx.cell')).toContain(line.replace('(1 of 3', '(2 of 3'));
    expect(await jailhouseOps(f)).toEqual(['jailhouse cell shutdown', 'jailhouse cell load', 'jailhouse cell start']);
    expect(states(again)).toEqual(ALL_ACTIVE);
  }, 60_000);
});

describe('a cell that keeps failing', () => {
  test('escalates recover → cold → isolate: reloads, then a re-create, then its hypervisor is stopped', async () => {
    const f = (fixture = await makeFixture());
    // The table alone decides (no onFailure), quick back-off, and a start limit that never gets in the way.
    const fast = 'restartSec: 100ms\nrestartMaxSec: 200ms\nstartLimit: { burst: 50, interval: 20s }\n';
    const table = RECOVER_COLD_ISOLATE('failed').replace('limit: 3, window: 60s', 'limit: 2, window: 60s').replace('limit: 2, window: 5min', 'limit: 1, window: 5min');
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('onFailure: restart\n', `${fast}${table}`));
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    await f.machine.clearLog();

    // Every run of the cell fails a second after it started.
    await f.machine.setCellFailures([{ cell: 'nuttx', afterStartMs: 1000 }]);
    await untilUnit(m, 'jailhouse.hypervisor', (s) => s.activeState === 'inactive', 60_000);
    await settle(m);
    const reload = ['jailhouse cell shutdown', 'jailhouse cell load', 'jailhouse cell start'];
    const recreate = ['jailhouse cell destroy', 'jailhouse cell create', 'jailhouse cell load', 'jailhouse cell start'];
    expect(await jailhouseOps(f)).toEqual([...reload, ...reload, ...recreate, 'jailhouse cell destroy', 'jailhouse disable']);
    expect(m.getUnit('nuttx.cell')!.details).toMatchObject({
      healthEvents: { failed: 4 },
      healthActions: { reload: 2, restart: 1, 'stop-hypervisor': 1 },
      healthLevel: 'isolate',
      healthLastAction: 'stop-hypervisor',
    });
    const lines = messages(m, 'nuttx.cell').filter((l) => l.startsWith('health: '));
    expect(lines.map((l) => l.slice(l.lastIndexOf('; level') + 2))).toEqual([
      'level recover: reload (1 of 2 in 1min)',
      'level recover: reload (2 of 2 in 1min)',
      'level cold: restart (1 of 1 in 5min; recover acted 2 times in 1min)',
      'level isolate: stop-hypervisor (recover acted 2 times in 1min; cold acted 1 time in 5min)',
    ]);
    expect(lines[0]).toMatch(/^health: Jailhouse reports the cell failed, failed CPUs: \d+; level recover/);
    // Stopped as by an operator, with everything on it; nothing restarts it.
    expect(m.getUnit('jailhouse.hypervisor')).toMatchObject({ activeState: 'inactive', result: 'success' });
    expect(m.getUnit('nuttx.cell')!.activeState).not.toBe('active');
    expect((await f.machine.state()).jailhouse.enabled).toBe(false);
  }, 90_000);
});

describe('a loader', () => {
  /** A program under the machine's root; its text is a shell script. */
  function program(f: Fixture, name: string, body: string): string {
    mkdirSync(join(f.machine.dir, 'opt/test'), { recursive: true });
    writeFileSync(join(f.machine.dir, 'opt/test', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(f.machine.dir, 'opt/test', name), 0o755);
    return `/opt/test/${name}`;
  }
  const gone = (pid: number) => () => {
    try {
      return /^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  };

  test('that hangs (stopped, its heartbeat still) is restarted by its restart: on-failure', async () => {
    const f = (fixture = await makeFixture());
    const beat = program(f, 'beat', 'while :; do date +%s%N > "$1"; sleep 0.05; done');
    f.writeUnit(
      'beat.yaml',
      `kind: Loader\nname: beat\nexec: [${beat}, ${join(f.machine.dir, 'run/beat')}]\nrestart: on-failure\nstopTimeout: 300ms\nliveness: { heartbeat: { file: /run/beat }, period: 200ms }\n`,
    );
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    const pid = pidOf(m.getUnit('beat.loader'));
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    const restarted = await untilUnit(m, 'beat.loader', (s) => s.activeState === 'active' && pidOf(s) > 0 && pidOf(s) !== pid);
    expect(restarted.details).toMatchObject({ healthEvents: { liveness: 1 }, healthActions: { restart: 1 }, healthLevel: 'restart' });
    // The old table's line (restart: on-failure decided), and the hung process killed with its group.
    expect(messages(m, 'beat.loader')).toContainEqual(expect.stringMatching(/^liveness failed 3 times \(heartbeat \/run\/beat: unchanged for \d+ ms\); restart: on-failure$/));
    await until(gone(pid), 10_000, `the hung loader ${pid} to be gone`, [every(50)]);
  }, 60_000);

  test('that fails its exec check is restarted by its table alone (restart: no)', async () => {
    const f = (fixture = await makeFixture());
    const sick = join(f.dir, 'sick');
    const sleeper = program(f, 'sleeper', 'exec sleep 1000000');
    const check = program(f, 'check', `test ! -e ${sick}`);
    f.writeUnit('sick.yaml', `kind: Loader\nname: sick\nexec: [${sleeper}]\nhealth: { on: { liveness: restart } }\nliveness: { exec: [${check}], period: 200ms, failureThreshold: 2 }\n`);
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    const pid = pidOf(m.getUnit('sick.loader'));
    writeFileSync(sick, '');
    await untilUnit(m, 'sick.loader', (s) => counts(s, 'healthEvents').liveness === 1);
    rmSync(sick);
    const restarted = await untilUnit(m, 'sick.loader', (s) => s.activeState === 'active' && pidOf(s) > 0 && pidOf(s) !== pid);
    expect(restarted.details).toMatchObject({ healthEvents: { liveness: 1 }, healthActions: { restart: 1 } });
    expect(messages(m, 'sick.loader')).toContain(`health: liveness failed 2 times (exec ${check}: exited with code 1); restart`);
    await until(gone(pid), 10_000, `the old loader ${pid} to be gone`, [every(50)]);
    expect(existsSync(sick)).toBe(false);
  }, 60_000);
});
