/**
 * crtosctl against a real private bus and the D-Bus service over the in-memory manager: verbs
 * run in-process through the real entry point (main), so a test costs a bus round trip, not a
 * Node start-up. Spawned-binary tests live in crtosctl.test.ts.
 */
import { Writable } from 'node:stream';
import { main } from '../../../src/cli/crtosctl.entry.js';
import type { CliContext } from '../../../src/cli/context.js';
import { startDbusService, type DbusServiceHandle } from '../../../src/dbus/index.js';
import { startPrivateBus, type PrivateBus } from '../../dbus/helpers/private-bus.js';
import { FakeManager, type FakeOptions } from '../../dbus/helpers/fake-manager.js';
import type { ManagerApi, UnitStatus } from '../../../src/engine/manager-api.js';
import type { Manager, ManagerOptions } from '../../../src/engine/manager.js';
import { settle, type Fixture } from '../../engine/harness.js';

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Harness<M extends ManagerApi = FakeManager> {
  bus: PrivateBus;
  manager: M;
  ctl(args: string[], opts?: { color?: boolean; env?: NodeJS.ProcessEnv; stdin?: CliContext['stdin'] }): Promise<CtlResult>;
  /** Takes only the D-Bus service off the bus (as if crtosd died). */
  stopService(): Promise<void>;
  stop(): Promise<void>;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export function startHarness(units?: UnitStatus[], opts: FakeOptions = {}): Promise<Harness> {
  return serveOnPrivateBus(new FakeManager(units, opts));
}

/** The engine on a fixture's simulated machine (test/engine/harness.ts), brought up, then served: for the verbs that act on it. */
export async function serveFixture(f: Fixture, opts: Partial<ManagerOptions> = {}): Promise<Harness<Manager>> {
  const m = f.manager(opts);
  await m.start();
  await settle(m);
  return serveOnPrivateBus(m);
}

/** The same with any manager. */
export async function serveOnPrivateBus<M extends ManagerApi>(manager: M): Promise<Harness<M>> {
  // Timestamps print in local time; tests read them in UTC.
  process.env.TZ = 'UTC';
  const bus = await startPrivateBus();
  let service: DbusServiceHandle | undefined;
  try {
    service = await startDbusService(manager, { busAddress: bus.address });
  } catch (e) {
    await bus.stop();
    throw e;
  }
  return {
    bus,
    manager,
    async ctl(args, o = {}) {
      const stdout = new Capture();
      const stderr = new Capture();
      const env = { ...process.env, CRTOS_BUS_ADDRESS: bus.address, ...o.env };
      const code = await main(args, { ...(o.stdin ? { stdin: o.stdin } : {}), stdout, stderr, env, cwd: process.cwd(), isTTY: o.color === true });
      return { code, stdout: stdout.text, stderr: stderr.text };
    },
    async stopService() {
      await service?.close();
      service = undefined;
    },
    async stop() {
      await service?.close();
      await bus.stop();
    },
  };
}
