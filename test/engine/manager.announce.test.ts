/**
 * What the unit files say is announced when they are loaded, not after the pass has looked at
 * the machine: an edit that needs nothing done shows at once, even while the machine is slow to
 * answer.
 */
import { afterAll, expect, test } from 'vitest';
import { createLinuxHost, type Host } from '../../src/host/index.js';
import type { UnitStatus } from '../../src/engine/manager-api.js';
import { ALL_ACTIVE, makeFixture, settle, states, untilUnit, type Fixture } from './harness.js';

let f: Fixture | undefined;
afterAll(async () => f?.cleanup());

test('an edited description is announced before the pass that follows the reload observes the machine', async () => {
  f = await makeFixture();
  const real = createLinuxHost({ root: f.machine.dir, env: f.machine.env, toolTimeoutMs: 5000, exitPollMs: 50 });
  // A gate on reading the Jailhouse state in sysfs, which every pass does: closed, no pass gets
  // past it. The machine's identity (/proc, /etc), which a load reads, is never slow on a real
  // machine, so it stays open.
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const jailhouseState = (paths: readonly string[]) => paths.some((p) => p.startsWith('/sys/devices/jailhouse'));
  const host: Host = Object.assign(Object.create(real) as Host, {
    readAttributes: async (paths: readonly string[]) => (jailhouseState(paths) && (await gate), real.readAttributes(paths)),
  });
  const m = f.manager({ host });
  await m.start();
  await settle(m);
  expect(states(m)).toEqual(ALL_ACTIVE);

  gate = new Promise((resolve) => (open = resolve));
  f.writeUnit('hello.yaml', f.readUnit('hello.yaml').replace('description: hello on NuttX', 'description: hello again on NuttX'));
  const announced = untilUnit(m, 'hello.loader', (s: UnitStatus) => s.description.startsWith('hello again'), 5000);
  const reloading = m.reload();
  let passed = false;
  void reloading.then(() => (passed = true));
  const status = await announced; // resolves with the gate still closed
  expect(status).toMatchObject({ activeState: 'active', description: expect.stringMatching(/^hello again on NuttX/) });
  // The gate holds the pass back: it reads sysfs through it.
  expect(passed).toBe(false);
  open();
  expect(await reloading).toMatchObject({ ok: true, steps: [] });
});
