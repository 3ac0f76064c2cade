import { describe, expect, test } from 'vitest';
import { EventEmitter } from 'node:events';
import { unitsLoaded } from '../../src/daemon/daemon.js';
import type { Manager } from '../../src/engine/manager.js';
import type { DaemonStatus } from '../../src/engine/manager-api.js';
import { problem } from '../../src/errors/problem.js';

const status = (errors: number): DaemonStatus => ({
  version: '0',
  unitDirectories: [],
  lastLoadErrors: Array.from({ length: errors }, () => problem('UNIT_EMPTY_FILE', 'bad')),
  lastReconcile: 0,
  systemState: 'starting',
});

function fakeManager(): EventEmitter & Pick<Manager, 'on' | 'off'> {
  return new EventEmitter() as EventEmitter & Pick<Manager, 'on' | 'off'>;
}

/** Settles `p` against the microtask queue: 'pending' when it has not resolved by then. */
async function state(p: Promise<unknown>): Promise<'resolved' | 'pending'> {
  return Promise.race([p.then(() => 'resolved' as const), new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('unitsLoaded', () => {
  test('waits for the daemonChanged that follows the first read of the unit files, then stops listening', async () => {
    const m = fakeManager();
    let loaded = false;
    const p = unitsLoaded(m, new Promise(() => undefined), () => loaded);
    m.emit('daemonChanged', status(0));
    expect(await state(p)).toBe('pending');
    loaded = true;
    m.emit('daemonChanged', status(0));
    expect(await state(p)).toBe('resolved');
    expect(m.listenerCount('daemonChanged')).toBe(0);
  });

  test('a refused set waits for the start (its first pass observes what runs)', async () => {
    const m = fakeManager();
    let finish!: () => void;
    const starting = new Promise<void>((r) => (finish = r));
    const p = unitsLoaded(m, starting, () => true);
    m.emit('daemonChanged', status(2));
    expect(await state(p)).toBe('pending');
    finish();
    expect(await state(p)).toBe('resolved');
    expect(m.listenerCount('daemonChanged')).toBe(0);
  });

  test('a start that fails fails it', async () => {
    const m = fakeManager();
    await expect(unitsLoaded(m, Promise.reject(new Error('boom')), () => false)).rejects.toThrow('boom');
    expect(m.listenerCount('daemonChanged')).toBe(0);
  });
});
