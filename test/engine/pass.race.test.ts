/**
 * A pass's snapshot against a loader's exit (src/engine/pass.ts, UnitTable.current): the snapshot
 * reads the loader alive, the loader dies and its exit is handled while the snapshot is still being
 * read, then the pass acts on the snapshot. The exit wins, as systemd's SIGCHLD wins over an older
 * /proc read: the unit is never shown active with its dead PID, never adopted again, its restart
 * policy and health table act once. The other way round too: a pass that finds the loader gone
 * before its exit is handled leaves it to the exit. The host holds a snapshot's read of the
 * loader's process open, or its report of the exit back, until the test releases it, so the order
 * is the test's, not the clock's.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLinuxHost } from '../../src/host/index.js';
import type { Host, ProcessIdentity } from '../../src/host/host.js';
import type { Manager } from '../../src/engine/manager.js';
import type { UnitStatus } from '../../src/engine/manager-api.js';
import type { UnitTable } from '../../src/engine/unit-table.js';
import { memoryMaskStore } from '../../src/engine/masks.js';
import { makeEmptyFixture, pidOf, scriptLoader, settle, stopAllAndCleanup, until, untilUnit, type Fixture } from './harness.js';

/** A read of one process held open: `read` resolves once the host has read it (alive); it answers when released. */
interface HeldRead {
  read: Promise<void>;
  release(): void;
}

/** An exit of one process held back: `exited` resolves once the host knows it; the engine learns it when released. */
interface HeldExit {
  exited: Promise<void>;
  release(): void;
}

/**
 * The fixture machine's Linux host, whose next read of a given process the test can hold open
 * (hold), or whose report of a process's exit it can hold back (holdExit).
 */
function holdableHost(f: Fixture): { host: Host; hold(pid: number): HeldRead; holdExit(pid: number): HeldExit } {
  const inner = createLinuxHost({ root: f.machine.dir, env: f.machine.env, toolTimeoutMs: 5000, exitPollMs: 50 });
  let armed: { pid: number; read(): void; released: Promise<void> } | undefined;
  const exits = new Map<number, { exited(): void; released: Promise<void> }>();
  const host = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'waitExit') {
        return async (id: ProcessIdentity) => {
          const exit = await target.waitExit(id);
          const held = exits.get(id.pid);
          if (held) {
            exits.delete(id.pid);
            held.exited();
            await held.released;
          }
          return exit;
        };
      }
      if (prop === 'process') {
        return async (id: ProcessIdentity) => {
          const info = await target.process(id);
          const held = armed;
          if (held && held.pid === id.pid) {
            armed = undefined;
            held.read();
            await held.released;
          }
          return info;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    host,
    hold(pid) {
      let read!: () => void;
      let release!: () => void;
      const readP = new Promise<void>((r) => (read = r));
      armed = { pid, read, released: new Promise<void>((r) => (release = r)) };
      return { read: readP, release };
    },
    holdExit(pid) {
      let exited!: () => void;
      let release!: () => void;
      const exitedP = new Promise<void>((r) => (exited = r));
      exits.set(pid, { exited, released: new Promise<void>((r) => (release = r)) });
      return { exited: exitedP, release };
    },
  };
}

describe("a loader's exit is its exit handler's, whatever a pass's snapshot saw of it", () => {
  let f: Fixture;
  let m: Manager;
  let hold: (pid: number) => HeldRead;
  let holdExit: (pid: number) => HeldExit;
  const fast = 'restartSec: 100ms\nrestartMaxSec: 400ms';

  beforeAll(async () => {
    f = await makeEmptyFixture();
    scriptLoader(f, 'masked', 'exec sleep 600', `restart: on-failure\n${fast}`);
    scriptLoader(f, 'proxy', 'exec sleep 600', `restart: always\n${fast}`);
    scriptLoader(f, 'once', 'exec sleep 600', 'restart: no');
    const holdable = holdableHost(f);
    hold = holdable.hold;
    holdExit = holdable.holdExit;
    m = f.manager({ host: holdable.host, masks: memoryMaskStore() });
    await m.start();
    for (const id of ['masked.loader', 'proxy.loader', 'once.loader']) await untilUnit(m, id, (s) => s.activeState === 'active');
    await settle(m);
  });
  afterAll(() => stopAllAndCleanup(f, m));

  /**
   * Starts a pass, holds its read of the unit's process (seen alive), kills the process with
   * `signal` and waits until its exit is handled; then `meanwhile`, then the read is released.
   * Resolves with the old PID and every status of the unit announced after the exit was handled.
   */
  async function killDuringSnapshot(id: string, signal: NodeJS.Signals, meanwhile: () => Promise<void> = async () => undefined) {
    const pid = pidOf(m.getUnit(id));
    expect(pid).toBeGreaterThan(0);
    const held = hold(pid);
    const pass = m.trigger(`test: a pass observing ${id}`);
    await held.read;
    process.kill(pid, signal);
    await untilUnit(m, id, (s) => s.activeState !== 'active');
    const after: UnitStatus[] = [];
    m.on('unitChanged', (s) => void (s.id === id && after.push(s)));
    await meanwhile();
    held.release();
    await pass;
    await settle(m);
    return { pid, after };
  }

  test('a masked loader killed while a pass reads it ends failed (its restart is masked), not active and then inactive', async () => {
    m.mask(['masked.loader'], 'runtime');
    await settle(m);
    const { pid, after } = await killDuringSnapshot('masked.loader', 'SIGKILL');
    expect(after.filter((s) => s.activeState === 'active')).toEqual([]);
    expect(m.getUnit('masked.loader')).toMatchObject({ loadState: 'masked', activeState: 'failed', subState: 'failed', result: 'signal' });
    expect(m.getUnit('masked.loader')?.details).toMatchObject({ exitSignal: 'SIGKILL', healthEvents: { failed: 1 } });
    expect(m.unitLog('masked.loader', 0).map((l) => l.message)).toContain(`process ${pid} killed by SIGKILL`);
  });

  test('a loader whose restart is due before the pass acts on its snapshot is started once, not adopted dead; its exit counted once', async () => {
    const table = (m as unknown as { table: UnitTable }).table;
    const logFrom = m.unitLog('proxy.loader', 0).length;
    // The worst order: the restart's back-off ends (its hold lifted) before the pass plans against
    // the snapshot that saw the old process; with no hold, that snapshot would have it adopted.
    const restartDue = () => until(() => table.holds.get('proxy.loader')?.reason !== 'restart-pending', 10_000, 'the restart of proxy.loader to be due');
    const { pid, after } = await killDuringSnapshot('proxy.loader', 'SIGTERM', restartDue);
    expect(after.filter((s) => s.activeState === 'active' && pidOf(s) === pid)).toEqual([]);
    const now = m.getUnit('proxy.loader')!;
    expect(now).toMatchObject({ activeState: 'active', result: 'success' });
    expect(pidOf(now)).not.toBe(pid);
    expect(now.details).toMatchObject({ restarts: 1, exitSignal: 'SIGTERM', healthEvents: { exited: 1 }, healthActions: { restart: 1 } });
    const lines = m.unitLog('proxy.loader', 0).slice(logFrom).map((l) => l.message);
    expect(lines.filter((l) => l.startsWith('start: '))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('adopted'))).toEqual([]);
  });

  test('a loader a pass finds gone before its exit is handled is left to its exit: not started again behind its restart policy (restart: no)', async () => {
    const pid = pidOf(m.getUnit('once.loader'));
    const logFrom = m.unitLog('once.loader', 0).length;
    const held = holdExit(pid);
    process.kill(pid, 'SIGKILL');
    await held.exited;
    // The process is gone from /proc; the engine has not heard of its exit yet.
    await m.trigger('test: a pass finding once.loader gone');
    expect(m.getUnit('once.loader')).toMatchObject({ activeState: 'active' });
    held.release();
    await untilUnit(m, 'once.loader', (s) => s.activeState === 'failed');
    await settle(m);
    expect(m.getUnit('once.loader')).toMatchObject({ activeState: 'failed', result: 'signal' });
    expect(m.getUnit('once.loader')?.details).toMatchObject({ restarts: 0, exitSignal: 'SIGKILL', healthEvents: { failed: 1 }, healthActions: { log: 1 } });
    const lines = m.unitLog('once.loader', 0).slice(logFrom).map((l) => l.message);
    expect(lines.filter((l) => l.startsWith('start: '))).toEqual([]);
  });
});
