/**
 * `crtosctl validate --units units/crtos --facts DIR --root FILES` for 100 machines: the cRTOS
 * example (its system configuration picked per board with %b, Jailhouse only where the
 * architecture is x86-64) against 100 facts files — 70 x86 boxes of two boards, 30 arm64
 * gateways on which the tree is skipped — and the simulated machine's files as the shipped tree.
 * Everything a user waits for is inside the measurement: loading the units, reading the facts
 * files, each machine's conditions, expansion and checks. Goal: under 1 s on a 2-core machine.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../src/cli/crtosctl.entry.js';
import { factsYaml } from '../src/facts/render.js';
import type { MachineFacts } from '../src/facts/types.js';
import { createSimMachine, destroySimMachine } from '../src/sim/index.js';

const MACHINES = 100;
const GOAL_MS = 1000;

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function facts(i: number): MachineFacts {
  const x86 = i % 10 < 7;
  const board = x86 ? (i % 2 === 0 ? { vendor: 'Supermicro', product: 'C7X99-OCE-F', id: 'supermicro-c7x99-oce-f' } : { vendor: 'Intel', product: 'NUC6CAY', id: 'intel-nuc6cay' }) : { model: 'linux,dummy-virt', compatible: ['linux,dummy-virt'], id: 'linux,dummy-virt' };
  return {
    crtosFactsVersion: 1,
    hostname: `box-${String(i).padStart(3, '0')}.fleet`,
    machineId: i.toString(16).padStart(32, '0'),
    architecture: x86 ? 'x86-64' : 'arm64',
    cpus: { count: 4, online: '0-3' },
    memory: { total: 8489271296, systemRam: ['0x00000000-0x39ffffff', '0x40000000-0x1ffffffff'] },
    kernel: { release: '5.4.0-crtos-sim', commandLine: 'memmap=0x6000000$0x3a000000' },
    board,
    jailhouse: { present: x86, enabled: false },
    remoteproc: [],
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'crtos-bench-fleet-'));
const files = join(tmp, 'files');
try {
  await createSimMachine(files);
  for (const board of ['supermicro-c7x99-oce-f', 'intel-nuc6cay']) copyFileSync(join(files, 'etc/jailhouse/sysconfig-base.cell'), join(files, `etc/jailhouse/${board}.cell`));
  const units = join(tmp, 'units');
  // The runner starts each benchmark in the repository root.
  cpSync(join(process.cwd(), 'units/crtos'), units, { recursive: true });
  const hv = join(units, 'jailhouse.yaml');
  writeFileSync(hv, readFileSync(hv, 'utf8').replace('system: /etc/jailhouse/sysconfig-base.cell', 'system: /etc/jailhouse/%b.cell'));
  mkdirSync(join(units, 'jailhouse.driver.d'));
  writeFileSync(join(units, 'jailhouse.driver.d/10-x86.yaml'), 'conditions:\n  architecture: x86-64\n');
  mkdirSync(join(tmp, 'facts'));
  for (let i = 0; i < MACHINES; i++) writeFileSync(join(tmp, 'facts', `box-${String(i).padStart(3, '0')}.yaml`), factsYaml(facts(i)));

  const run = async (): Promise<number> => {
    const stdout = new Sink();
    const stderr = new Sink();
    (globalThis as { gc?: () => void }).gc?.();
    const start = performance.now();
    const code = await main(['validate', '--units', units, '--facts', join(tmp, 'facts'), '--root', files], { stdout, stderr, env: {}, cwd: tmp, isTTY: false });
    const ms = performance.now() - start;
    if (code !== 0 || !stdout.text.includes(`valid on ${MACHINES} machines`)) throw new Error(`validate failed (exit ${code}): ${stderr.text.slice(0, 2000)}`);
    return ms;
  };
  const first = await run(); // cold: modules loaded, JIT
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) runs.push(await run());
  runs.sort((a, b) => a - b);
  const median = runs[2]!;
  console.log(`${MACHINES} machines × the cRTOS example: ${median.toFixed(0)} ms (median of 5; first run ${first.toFixed(0)} ms), ${((median * 1000) / MACHINES).toFixed(0)} µs per machine`);
  console.log(`ratio to the ${GOAL_MS} ms goal: ${(median / GOAL_MS).toFixed(2)} ${median < GOAL_MS ? 'ok' : 'MISSED'}`);
} finally {
  await destroySimMachine(files).catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
}
