/**
 * `crtosctl analyze` end to end (issue 15's acceptance): the cRTOS example brought up by a real
 * crtosd on the simulated machine (readiness on the machine's loopback endpoint, as the demo
 * has it), over a private D-Bus bus; `crtosctl analyze plot` is valid XML (xmllint), has one bar
 * per unit and renders to a PNG (rsvg-convert); `analyze dot` is accepted by Graphviz's dot.
 */
import { afterEach, expect, test } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ALL_ACTIVE, makeFixture } from '../../engine/harness.js';
import { machineChanges, outputOf, startDaemon } from '../../daemon/run.js';
import { startPrivateBus } from '../../dbus/helpers/private-bus.js';
import { every, until } from '../../helpers/wait-for.js';
import { CrtosClient } from '../../../src/dbus/client.js';

const run = promisify(execFile);
const CRTOSCTL = join(import.meta.dirname, '../../../dist/crtosctl.cjs');

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

test('analyze plot of the brought-up cRTOS example: valid SVG, one bar per unit with its operations, rendered to PNG; analyze dot accepted by dot', async () => {
  const f = await makeFixture();
  cleanups.push(() => f.cleanup());
  const bus = await startPrivateBus();
  cleanups.push(() => bus.stop());
  const { child, output, exited } = startDaemon(f, ['--bus', bus.address]);
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  });

  const client = await CrtosClient.connect(bus.address, {});
  cleanups.push(() => client.close());
  const ids = Object.keys(ALL_ACTIVE);
  await until(`the bring-up: ${ids.length} units active on D-Bus`, async () => (await client.listUnits().catch(() => [])).filter((u) => u.activeState === 'active').length === ids.length, {
    sources: [...machineChanges(f), ...outputOf(child), every(500)],
    timeoutMs: 30_000,
    detail: output,
  });

  const env = { ...process.env, CRTOS_BUS_ADDRESS: bus.address };
  const plot = await run(process.execPath, [CRTOSCTL, 'analyze', 'plot'], { env });
  const svgFile = join(f.dir, 'boot.svg');
  writeFileSync(svgFile, plot.stdout);
  await run('xmllint', ['--noout', svgFile]);
  const bars = [...plot.stdout.matchAll(/<rect class="unit ([a-z]+)" data-unit="([^"]+)"/g)];
  expect(bars.map((m) => m[2]).sort()).toEqual(ids.sort());
  expect(bars.every((m) => m[1] === 'active')).toBe(true);
  // The hypervisor operations inside the cell's job: create, load, start, then its readiness.
  const cellOps = [...plot.stdout.matchAll(/class="operation" data-unit="nuttx\.cell"[^>]*><title>([a-zA-Z]+) /g)].map((m) => m[1]);
  expect(cellOps).toEqual(expect.arrayContaining(['createCell', 'loadCell', 'startCell', 'probeTcp']));
  expect(plot.stdout).toMatch(/class="operation" data-unit="jailhouse\.hypervisor"[^>]*><title>enableJailhouse jailhouse enable /);

  const png = join(f.dir, 'boot.png');
  await run('rsvg-convert', ['-o', png, svgFile]);
  const bytes = readFileSync(png);
  expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  expect(bytes.length).toBeGreaterThan(1000);

  const dot = await run(process.execPath, [CRTOSCTL, 'analyze', 'dot'], { env });
  const graph = await new Promise<{ code: number | null; svg: string }>((resolve) => {
    const p = spawn('dot', ['-Tsvg']);
    let svg = '';
    p.stdout.on('data', (d: Buffer) => (svg += d.toString()));
    p.on('exit', (code) => resolve({ code, svg }));
    p.stdin.end(dot.stdout);
  });
  expect(graph.code).toBe(0);
  expect(graph.svg).toContain('<title>hello.loader&#45;&gt;nuttx.cell</title>');

  const chain = await run(process.execPath, [CRTOSCTL, 'analyze', 'critical-chain', 'hello.loader'], { env: { ...env, LC_ALL: 'C' } });
  expect(chain.stdout).toMatch(/\nhello\.loader \+\S+\n`-nuttx\.cell @\S+ \+\S+\n/);
}, 60_000);
