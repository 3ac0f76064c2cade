/**
 * crtosctl start-up: wall time of `crtosctl status` against the Node floor (`node -e 0`) and
 * against `busctl call … ListUnits` on the same private bus, served by the D-Bus service over an
 * in-memory manager with the cRTOS example's units. Runs are interleaved so load from elsewhere
 * hits all three alike; medians are compared. Goal: status ≤ 1.3 × the Node floor.
 *
 * With NODE_EXTRA_CA_CERTS set, every Node process reads and parses that certificate file as it
 * starts (about 30 ms of CPU for a distribution's whole bundle, more than half of `node -e 0`),
 * which raises the floor, not crtosctl's own cost. A machine crtosctl is installed on need not set
 * it, so the floor and status are then also run without it, and that ratio is printed beside the
 * goal's.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startDbusService } from '../src/dbus/index.js';
import { startPrivateBus } from '../test/dbus/helpers/private-bus.js';
import { FakeManager } from '../test/dbus/helpers/fake-manager.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const CRTOSCTL = join(process.cwd(), 'dist/crtosctl.cjs');

const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...envWithoutCaCerts } = process.env;

function timeRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
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
  const status: [string, string[]] = [process.execPath, [CRTOSCTL, '--bus', bus.address, 'status']];
  const cases: Record<string, [string, string[], NodeJS.ProcessEnv?]> = {
    'node -e 0': [process.execPath, ['-e', '0']],
    'crtosctl status': status,
    'crtosctl status nuttx.cell': [process.execPath, [CRTOSCTL, '--bus', bus.address, 'status', 'nuttx.cell']],
    'busctl call ListUnits': ['busctl', [`--address=${bus.address}`, 'call', 'org.crtos.Manager1', '/org/crtos/Manager1', 'org.crtos.Manager1', 'ListUnits']],
    ...(extraCaCerts === undefined
      ? {}
      : { 'node -e 0 (no CA env)': [process.execPath, ['-e', '0'], envWithoutCaCerts], 'crtosctl status (no CA env)': [...status, envWithoutCaCerts] }),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // One warm-up round fills the page cache.
  for (const [cmd, args, env] of Object.values(cases)) await timeRun(cmd, args, env);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, [cmd, args, env]] of Object.entries(cases)) times[name]!.push(await timeRun(cmd, args, env));
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
  if (extraCaCerts !== undefined) {
    const clean = median(times['crtosctl status (no CA env)']!) / median(times['node -e 0 (no CA env)']!);
    console.log(`without NODE_EXTRA_CA_CERTS (set here, as a machine crtosctl runs on need not): crtosctl status ${clean.toFixed(2)} x node -e 0 (median)`);
  }
} finally {
  await service.close();
  await bus.stop();
}
