/**
 * takeSnapshot's process reads: loaders with a recorded PID by identity, loaders recorded with an
 * invocation id but no PID by INVOCATION_ID (only when asked), nothing else.
 */
import { expect, test } from 'vitest';
import type { Host, InterfaceInfo, ProcessIdentity, ProcessInfo, ToolCall } from '../../src/host/host.js';
import type { Target } from '../../src/kinds/behaviours.js';
import { InterfaceProbe, observeAll, takeSnapshot } from '../../src/engine/observe.js';

function fakeHost(byEnv: Record<string, ProcessInfo>) {
  const calls: string[] = [];
  const host: Partial<Host> = {
    // No Jailhouse module: its sysfs tree is missing.
    readAttributes: async (paths: readonly string[]) => paths.map(() => ({ errno: 'ENOENT' as const, error: 'ENOENT: no such file or directory' })),
    exists: async () => false,
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

test('a hung `ip addr show` is given up at the probe bound: the Network units keep the interfaces last seen, with a warning', async () => {
  const link: InterfaceInfo = { name: 'enp0s13', up: true, addresses: ['172.16.0.1/24'] };
  let hang = false;
  const { host } = fakeHost({});
  // Hangs until its call's signal fires, as the Linux host does when it kills the tool.
  host.interfaces = (call?: ToolCall) =>
    hang ? new Promise((_, reject) => call?.signal?.addEventListener('abort', () => reject(new Error('killed')))) : Promise.resolve([link]);
  const warnings: string[] = [];
  const probe = new InterfaceProbe({ timeoutMs: 100, warn: (units, message) => warnings.push(`${units.join()}: ${message}`) });
  const net: Target = { id: 'crtos-link.network', kind: 'Network', facts: { interface: 'enp0s13', addresses: ['172.16.0.1/24'] } };
  const first = await takeSnapshot(host, [net], { interfaces: probe });
  expect(observeAll(first, [net]).get(net.id)?.state).toBe('active');
  hang = true;
  const t = Date.now();
  const second = await takeSnapshot(host, [net, loader('a.loader', {})], { interfaces: probe });
  expect(Date.now() - t).toBeLessThan(1000);
  expect(observeAll(second, [net]).get(net.id)?.state).toBe('active');
  expect(warnings).toEqual(['crtos-link.network: `ip addr show` did not answer within 100 ms and was killed; the interfaces stay as last observed']);
  // With nothing seen yet, none are known.
  const fresh = new InterfaceProbe({ timeoutMs: 50, warn: (_units, message) => warnings.push(message) });
  expect(observeAll(await takeSnapshot(host, [net], { interfaces: fresh }), [net]).get(net.id)?.state).toBe('inactive');
  expect(warnings[1]).toBe('`ip addr show` did not answer within 50 ms and was killed; no interfaces were observed yet, so none are known');
});

test('before() runs before the machine is read', async () => {
  const order: string[] = [];
  const { host } = fakeHost({});
  const readAttributes = host.readAttributes;
  host.readAttributes = (paths) => (order.push('read'), readAttributes(paths));
  await takeSnapshot(host, [], { before: async () => void order.push('before') });
  expect(order).toEqual(['before', 'read']);
});
