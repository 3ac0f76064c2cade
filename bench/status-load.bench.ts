/**
 * The D-Bus service under load: 200 concurrent status requests while 32 cells come up (each
 * start a burst of PropertiesChanged and job signals). Phase 1: 200 in-process clients, each
 * doing what `crtosctl status nuttx-N.cell` does on the bus (connect, GetUnit, GetAll × 2,
 * GetUnitLog). Phase 2: 200 `crtosctl status` processes at once. Reports how many were answered
 * and the latency percentiles; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startDbusService } from '../src/dbus/index.js';
import { CrtosClient } from '../src/dbus/client.js';
import { startPrivateBus } from '../test/dbus/helpers/private-bus.js';
import { FakeManager, makeUnit } from '../test/dbus/helpers/fake-manager.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const CELLS = 32;
const CRTOSCTL = join(process.cwd(), 'dist/crtosctl.mjs');

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const report = (label: string, ok: number, lat: number[], wallMs: number): void => {
  console.log(
    `${label}: ${ok}/${CALLS} answered in ${wallMs.toFixed(0)} ms; latency p50 ${pct(lat, 50).toFixed(1)} ms, p90 ${pct(lat, 90).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`,
  );
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

async function inProcess(address: string): Promise<void> {
  const manager = cells();
  const service = await startDbusService(manager, { busAddress: address });
  try {
    const t0 = performance.now();
    const bringUp = bringUpAll(manager);
    const latencies: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: CALLS }, async (_, i) => {
        const start = performance.now();
        const client = await CrtosClient.connect(address, {});
        try {
          const id = `nuttx-${i % CELLS}.cell`;
          const unit = await client.unit(id);
          await client.unitLog(id, 10);
          if (!unit) throw new Error(`no ${id}`);
        } finally {
          client.close();
        }
        latencies.push(performance.now() - start);
      }),
    );
    const changes = await bringUp;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    report('in-process clients', ok, latencies, performance.now() - t0);
    console.log(`  meanwhile ${CELLS} cells came up with ${changes} unit changes announced`);
    for (const r of results) if (r.status === 'rejected') console.log(`  failure: ${String(r.reason)}`);
  } finally {
    await service.close();
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
  const manager = cells();
  const service = await startDbusService(manager, { busAddress: address });
  try {
    const t0 = performance.now();
    const bringUp = bringUpAll(manager);
    const results = await Promise.allSettled(Array.from({ length: CALLS }, () => timeStatus(address)));
    await bringUp;
    const latencies = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    report('crtosctl status processes', latencies.length, latencies, performance.now() - t0);
    const failures = results.filter((r) => r.status === 'rejected');
    if (failures.length) console.log(`  first failure: ${String((failures[0] as PromiseRejectedResult).reason)}`);
  } finally {
    await service.close();
  }
}

const bus = await startPrivateBus();
try {
  await inProcess(bus.address);
  if (process.env.BENCH_SPAWN !== '0') await processes(bus.address);
} finally {
  await bus.stop();
}
