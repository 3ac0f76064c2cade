/**
 * The acceptance test of issue 14's metrics: crtosd on a simulated machine writes --metrics-file
 * into the directory of the real node_exporter's textfile collector (Debian's
 * prometheus-node-exporter), which serves it on a loopback port; a scrape finds crtosd's metrics
 * with the right values before and after a cell fails, `crtosctl metrics` prints what the file
 * holds, and the real `promtool check metrics` finds no problem in the file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeFixture, ALL_ACTIVE, type Fixture } from '../engine/harness.js';
import { startDaemon, outputOf, type Daemon } from '../daemon/run.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { run } from '../dbus/helpers/run.js';
import { changesOf, dataOf, every, until, waitFor } from '../helpers/wait-for.js';

const CRTOSCTL = fileURLToPath(new URL('../../dist/crtosctl.cjs', import.meta.url));

let f: Fixture;
let bus: PrivateBus;
let daemon: Daemon;
let exporter: ChildProcess;
let exporterOutput = '';
let port: number;
let textfileDir: string;
let metricsFile: string;
const started = Date.now() / 1000;

/** A port nobody listens on now: the kernel's pick for a listener closed at once. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
}

/** node_exporter's /metrics, one entry per sample line as it prints it (labels sorted by name). */
async function scrape(): Promise<Map<string, number> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    if (!res.ok) return undefined;
    const samples = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      samples.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return samples;
  } catch {
    return undefined;
  }
}

const unitKind = (id: string): string => id.slice(id.lastIndexOf('.') + 1);
const detail = () => `crtosd:\n${daemon.output()}\nnode_exporter:\n${exporterOutput}`;

beforeAll(async () => {
  f = await makeFixture();
  textfileDir = join(f.dir, 'textfile');
  metricsFile = join(textfileDir, 'crtos.prom');
  bus = await startPrivateBus();
  daemon = startDaemon(f, ['--bus', bus.address, '--metrics-file', metricsFile]);
  port = await freePort();
  exporter = spawn('/usr/bin/prometheus-node-exporter', [
    '--collector.disable-defaults',
    '--collector.textfile',
    `--collector.textfile.directory=${textfileDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  exporter.stdout!.on('data', (d: Buffer) => (exporterOutput += d.toString()));
  exporter.stderr!.on('data', (d: Buffer) => (exporterOutput += d.toString()));
  await until('node_exporter to answer on its port', async () => {
    if (exporter.exitCode !== null) throw new Error(`node_exporter exited:\n${exporterOutput}`);
    return (await scrape()) !== undefined;
  }, { sources: [every(50), dataOf(exporter.stderr)], timeoutMs: 10_000, detail });
}, 30_000);

afterAll(async () => {
  if (exporter && exporter.exitCode === null) {
    const gone = new Promise((r) => exporter.once('exit', r));
    exporter.kill();
    await gone;
  }
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  await bus?.stop();
  await f?.cleanup();
});

describe('metrics through node_exporter', () => {
  test('the bring-up: every unit active, the cell\'s CPUs, the reload, the version; crtosctl metrics prints the file', async () => {
    // The file once the bring-up is done: every unit of the example active.
    const activeLine = (id: string) => `crtos_unit_active{unit="${id}",kind="${unitKind(id)}"} 1\n`;
    await until('the metrics file to show every unit active', () => {
      let text = '';
      try {
        text = readFileSync(metricsFile, 'utf8');
      } catch {
        return false;
      }
      return Object.keys(ALL_ACTIVE).every((id) => text.includes(activeLine(id)));
    }, { sources: [changesOf(textfileDir), ...outputOf(daemon.child)], timeoutMs: 20_000, detail });

    const m = (await scrape())!;
    for (const id of Object.keys(ALL_ACTIVE)) {
      const labels = `kind="${unitKind(id)}",unit="${id}"`;
      const state = (s: string) => `crtos_unit_state{kind="${unitKind(id)}",state="${s}",unit="${id}"}`;
      expect(m.get(`crtos_unit_active{${labels}}`), id).toBe(1);
      expect(m.get(state('active')), id).toBe(1);
      expect(m.get(state('failed')), id).toBe(0);
      expect(m.get(`crtos_unit_restarts_total{${labels}}`), id).toBe(0);
    }
    const nuttx = (await f.machine.state()).jailhouse.cells.find((c) => c.name === 'nuttx')!;
    expect(nuttx.cpus.length).toBeGreaterThan(0);
    expect(m.get('crtos_cell_cpus{unit="nuttx.cell"}')).toBe(nuttx.cpus.length);
    expect(m.get('crtos_health_events_total{event="failed",kind="cell",unit="nuttx.cell"}')).toBe(0);
    expect(m.get('crtos_unit_bringup_duration_seconds{kind="cell",unit="nuttx.cell"}')).toBeGreaterThan(0);
    expect(m.get('crtos_build_info{version="0.1.0"}')).toBe(1);
    expect(m.get('crtos_reload_last_success')).toBe(1);
    const reloaded = m.get('crtos_reload_last_timestamp_seconds')!;
    expect(reloaded).toBeGreaterThanOrEqual(Math.floor(started));
    expect(reloaded).toBeLessThanOrEqual(Date.now() / 1000);
    expect(m.get(`node_textfile_mtime_seconds{file="${metricsFile}"}`)).toBeGreaterThan(0);
    expect(m.get('node_textfile_scrape_error')).toBe(0);

    // crtosctl metrics prints exactly what the file holds (once no change is being written).
    await waitFor('crtosctl metrics to print what the file holds', async () => {
      const r = await run(process.execPath, [CRTOSCTL, 'metrics'], { env: { ...process.env, CRTOS_BUS_ADDRESS: bus.address } });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout === readFileSync(metricsFile, 'utf8');
    }, { sources: [every(200)], timeoutMs: 10_000, detail });

    // promtool finds nothing to say about it.
    const lint = await run('/usr/bin/promtool', ['check', 'metrics'], { input: readFileSync(metricsFile, 'utf8') });
    expect({ code: lint.code, out: lint.stdout + lint.stderr }).toEqual({ code: 0, out: '' });
  });

  test('a cell that fails: its health event and its restart are counted, and node_exporter serves them', async () => {
    const cell = 'kind="cell",unit="nuttx.cell"';
    await f.machine.failCell('nuttx');
    const m = await waitFor('a scrape to show the failure counted and the restart done', async () => {
      const s = await scrape();
      return s?.get(`crtos_health_events_total{event="failed",${cell}}`) === 1 && s.get(`crtos_unit_restarts_total{${cell}}`) === 1 ? s : undefined;
    }, { sources: [every(100)], timeoutMs: 20_000, detail });
    expect(m.get(`crtos_health_events_total{event="liveness",${cell}}`)).toBe(0);
    // What does not depend on the cell was not restarted.
    expect(m.get('crtos_unit_restarts_total{kind="driver",unit="jailhouse.driver"}')).toBe(0);
    expect(m.get('node_textfile_scrape_error')).toBe(0);
    // onFailure: restart brings it back.
    await until('the cell to be active again', async () => (await scrape())?.get(`crtos_unit_active{${cell}}`) === 1, { sources: [every(100)], timeoutMs: 20_000, detail });
  });
});
