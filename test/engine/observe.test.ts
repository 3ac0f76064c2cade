/**
 * takeSnapshot's process reads: loaders with a recorded PID by identity, loaders recorded with an
 * invocation id but no PID by INVOCATION_ID (only when asked), nothing else.
 */
import { expect, test } from 'vitest';
import type { Host, ProcessIdentity, ProcessInfo } from '../../src/host/host.js';
import type { Target } from '../../src/engine/kinds/index.js';
import { observeAll, takeSnapshot } from '../../src/engine/observe.js';

function fakeHost(byEnv: Record<string, ProcessInfo>) {
  const calls: string[] = [];
  const host: Partial<Host> = {
    jailhouse: async () => ({ loaded: false, enabled: false, cells: [] }),
    modules: async () => [],
    onlineCpus: async () => [0],
    process: async (id: ProcessIdentity) => {
      calls.push(`process ${id.pid}`);
      return { ...id, state: 'S', argv: ['x'] };
    },
    findProcessByEnv: async (name: string, value: string) => {
      calls.push(`env ${name}=${value}`);
      return byEnv[value];
    },
  };
  return { host: host as Host, calls };
}

const loader = (id: string, facts: Target['facts']): Target => ({ id, kind: 'Loader', facts });

test('a loader recorded without a PID is looked up by its INVOCATION_ID and observed active when found', async () => {
  const found: ProcessInfo = { pid: 42, startTime: 7, state: 'S', argv: ['loader'] };
  const { host, calls } = fakeHost({ aa: found });
  const targets = [
    loader('known.loader', { pid: 5, startTime: 1, invocationId: 'cc' }),
    loader('crashed.loader', { invocationId: 'aa' }),
    loader('gone.loader', { invocationId: 'bb' }),
    loader('never.loader', {}),
  ];
  const snap = await takeSnapshot(host, targets);
  expect(calls.sort()).toEqual(['env INVOCATION_ID=aa', 'env INVOCATION_ID=bb', 'process 5']);
  expect(snap.processes.get('crashed.loader')).toEqual(found);
  const observed = observeAll(snap, targets);
  expect(observed.get('crashed.loader')).toMatchObject({ state: 'active', details: { pid: 42 } });
  expect(observed.get('gone.loader')?.state).toBe('inactive');
  expect(observed.get('never.loader')?.state).toBe('inactive');
});

test('findByInvocation decides which invocation ids are looked up', async () => {
  const { host, calls } = fakeHost({});
  await takeSnapshot(host, [loader('a.loader', { invocationId: 'aa' }), loader('b.loader', { invocationId: 'bb' })], {
    findByInvocation: (t) => t.facts.invocationId === 'bb',
  });
  expect(calls).toEqual(['env INVOCATION_ID=bb']);
});
