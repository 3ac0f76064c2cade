/**
 * The D-Bus service under load: 200 concurrent status requests while 32 cells come up (each
 * start a burst of PropertiesChanged and job signals).
 *
 * The service (startDbusService over a FakeManager whose jobs take 150 ms) runs in a child
 * process, as crtosd does; the clients run here. So the latencies are the service's answers plus
 * the bus, not the 200 clients' own connection set-ups competing with the service in one event
 * loop (which is what this bench measured when both ran in one process). The child reports its
 * own event-loop delay during the bring-up: how long the service made a caller wait at most.
 *
 * Phase 1: 200 clients connect (timed apart), then each asks at once what `crtosctl status
 * nuttx-N.cell` asks on the bus (GetUnit, GetAll × 2, GetUnitLog) while the cells come up.
 * Phase 2: 200 `crtosctl status` processes at once. Reports how many were answered and the
 * latency percentiles; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startDbusService } from '../src/dbus/index.js';
import { CrtosClient } from '../src/dbus/client.js';
import { startPrivateBus } from '../test/dbus/helpers/private-bus.js';
import { FakeManager, makeUnit } from '../test/dbus/helpers/fake-manager.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const CELLS = 32;
const CRTOSCTL = join(process.cwd(), 'dist/crtosctl.cjs');
const SERVE = 'serve-status-load';

/** What the service process reports once its cells are up. */
interface BroughtUp {
  changes: number;
  /** Its event-loop delay during the bring-up, ms. */
  delay: { p50: number; p99: number; max: number };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const describe = (lat: number[]): string =>
  `p50 ${pct(lat, 50).toFixed(1)} ms, p90 ${pct(lat, 90).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`;
const report = (label: string, ok: number, lat: number[], wallMs: number): void => {
  console.log(`${label}: ${ok}/${CALLS} answered in ${wallMs.toFixed(0)} ms; latency ${describe(lat)}`);
};
const reportService = (up: BroughtUp): void => {
  console.log(`  the service meanwhile: ${CELLS} cells came up with ${up.changes} unit changes announced; its event-loop delay p50 ${up.delay.p50.toFixed(1)} ms, p99 ${up.delay.p99.toFixed(1)} ms, max ${up.delay.max.toFixed(1)} ms`);
};

function cells(): FakeManager {
  const units = Array.from({ length: CELLS }, (_, i) =>
    makeUnit(`nuttx-${i}.cell`, { kind: 'Cell', cellId: -1, jailhouseState: '', cpus: [], failedCpus: [], configPath: `/etc/jailhouse/nuttx-${i}.cell` }),
  );
  return new FakeManager(units, { jobMs: 150 });
}

async function bringUpAll(manager: FakeManager): Promise<number> {
  let changes = 0;
  const count = (): void => void changes++;
  manager.on('unitChanged', count);
  const done = new Promise<void>((resolve) => {
    let left = CELLS;
    manager.on('jobRemoved', () => {
      if (--left === 0) resolve();
    });
  });
  for (let i = 0; i < CELLS; i++) manager.enqueue(`nuttx-${i}.cell`, 'start');
  await done;
  manager.off('unitChanged', count);
  return changes;
}

/**
 * The child: the service on the bus, ready when it says so; on 'bring-up' it starts every cell
 * and answers with what it announced and its event-loop delay; on 'exit' it closes.
 */
async function serve(address: string): Promise<void> {
  const manager = cells();
  const service = await startDbusService(manager, { busAddress: address });
  process.on('message', (msg: string) => {
    if (msg === 'exit') {
      void service.close().then(() => process.exit(0));
      return;
    }
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    void bringUpAll(manager).then((changes) => {
      delay.disable();
      const up: BroughtUp = { changes, delay: { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 } };
      process.send!(up);
    });
  });
  process.send!('ready');
}

/** The service in its own process, its name taken on the bus. */
class ServiceProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(address: string): Promise<ServiceProcess> {
    // BENCH_SERVICE_NODE_ARGS: Node options for the service process alone (--cpu-prof, --trace-gc).
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
    const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url), SERVE, address], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the service process exited (${code}) before it was ready`)));
    });
    return new ServiceProcess(child);
  }

  /** Starts the bring-up; resolves with the service's report once every cell is up. */
  bringUp(): Promise<BroughtUp> {
    const up = new Promise<BroughtUp>((resolve) => this.child.once('message', (m: BroughtUp) => resolve(m)));
    this.child.send('bring-up');
    return up;
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send('exit');
    await exited;
  }
}

async function inProcess(address: string): Promise<void> {
  const service = await ServiceProcess.start(address);
  const clients: CrtosClient[] = [];
  try {
    // A client connects with its first call (the authentication travels with it): each one is
    // connected by a first call, one at a time, before the bring-up.
    const connects: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      const client = await CrtosClient.connect(address, {});
      clients.push(client);
      await client.daemon();
      connects.push(performance.now() - start);
    }
    console.log(`clients connected one at a time before the bring-up (connection and a first call): ${describe(connects)}`);
    const t0 = performance.now();
    const bringUp = service.bringUp();
    const latencies: number[] = [];
    const results = await Promise.allSettled(
      clients.map(async (client, i) => {
        const start = performance.now();
        const id = `nuttx-${i % CELLS}.cell`;
        const unit = await client.unit(id);
        await client.unitLog(id, 10);
        if (!unit) throw new Error(`no ${id}`);
        latencies.push(performance.now() - start);
      }),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    report('clients in this process, asking at once', ok, latencies, performance.now() - t0);
    for (const r of results) if (r.status === 'rejected') console.log(`  failure: ${String(r.reason)}`);
    reportService(await bringUp);
  } finally {
    for (const c of clients) c.close();
    await service.stop();
  }
}

function timeStatus(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [CRTOSCTL, '--bus', address, 'status'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`exit ${code}: ${err.trim()}`))));
  });
}

async function processes(address: string): Promise<void> {
  const service = await ServiceProcess.start(address);
  try {
    const t0 = performance.now();
    const bringUp = service.bringUp();
    const results = await Promise.allSettled(Array.from({ length: CALLS }, () => timeStatus(address)));
    const latencies = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    report('crtosctl status processes', latencies.length, latencies, performance.now() - t0);
    const failures = results.filter((r) => r.status === 'rejected');
    if (failures.length) console.log(`  first failure: ${String((failures[0] as PromiseRejectedResult).reason)}`);
    reportService(await bringUp);
  } finally {
    await service.stop();
  }
}

if (process.argv[2] === SERVE) {
  await serve(process.argv[3]!);
} else {
  const bus = await startPrivateBus();
  try {
    await inProcess(bus.address);
    if (process.env.BENCH_SPAWN !== '0') await processes(bus.address);
  } finally {
    await bus.stop();
  }
}
