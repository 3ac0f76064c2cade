/**
 * crtosctl start-up: wall time of `crtosctl status` against the Node floor (`node -e 0`) and
 * against `busctl call … ListUnits` on the same private bus, served by the D-Bus service over an
 * in-memory manager with the cRTOS example's units. Runs are interleaved so load from elsewhere
 * hits all three alike; medians are compared. Goal: status ≤ 1.3 × the Node floor.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startDbusService } from '../src/dbus/index.js';
import { startPrivateBus } from '../test/dbus/helpers/private-bus.js';
import { FakeManager } from '../test/dbus/helpers/fake-manager.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const CRTOSCTL = join(process.cwd(), 'dist/crtosctl.cjs');

function timeRun(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      // status exits 3 for an inactive unit: still a full answer.
      if (code !== 0 && code !== 3) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

const min = (xs: number[]): number => Math.min(...xs);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const bus = await startPrivateBus();
const service = await startDbusService(new FakeManager(), { busAddress: bus.address });
try {
  const cases: Record<string, [string, string[]]> = {
    'node -e 0': [process.execPath, ['-e', '0']],
    'crtosctl status': [process.execPath, [CRTOSCTL, '--bus', bus.address, 'status']],
    'crtosctl status nuttx.cell': [process.execPath, [CRTOSCTL, '--bus', bus.address, 'status', 'nuttx.cell']],
    'busctl call ListUnits': ['busctl', [`--address=${bus.address}`, 'call', 'org.crtos.Manager1', '/org/crtos/Manager1', 'org.crtos.Manager1', 'ListUnits']],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // One warm-up round fills the page cache.
  for (const [cmd, args] of Object.values(cases)) await timeRun(cmd, args);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, [cmd, args]] of Object.entries(cases)) times[name]!.push(await timeRun(cmd, args));
  }
  const floor = median(times['node -e 0']!);
  const busctl = median(times['busctl call ListUnits']!);
  const minFloor = min(times['node -e 0']!);
  console.log(`${ROUNDS} interleaved rounds; median (and minimum) wall time:`);
  for (const [name, xs] of Object.entries(times)) {
    console.log(
      `  ${name.padEnd(28)} ${median(xs).toFixed(1).padStart(7)} ms (${min(xs).toFixed(1).padStart(6)})   ` +
        `${(median(xs) / floor).toFixed(2)} x node floor (${(min(xs) / minFloor).toFixed(2)})   ${(median(xs) / busctl).toFixed(2)} x busctl`,
    );
  }
  const ratio = median(times['crtosctl status']!) / floor;
  const minRatio = min(times['crtosctl status']!) / minFloor;
  console.log(`goal: crtosctl status <= 1.30 x node -e 0; measured ${ratio.toFixed(2)} x median, ${minRatio.toFixed(2)} x minimum (judged on the median: ${ratio <= 1.3 ? 'met' : 'NOT met'})`);
} finally {
  await service.close();
  await bus.stop();
}
