import { EventEmitter } from 'node:events';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startMetricsFile, type MetricsFile } from '../../src/metrics/metrics-file.js';
import { renderMetrics } from '../../src/metrics/render.js';
import { takeSnapshot } from '../../src/metrics/snapshot.js';
import { createLinuxHost } from '../../src/host/index.js';
import type { Problem } from '../../src/errors/problem.js';
import { makeFixture, settle, states, ALL_ACTIVE, type Fixture } from '../engine/harness.js';
import { dataOf, eventsOf, until } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'crtos-metrics-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A host that records what it is asked to write, and can hold a write until released. */
function recordingHost() {
  const written: string[] = [];
  const events = new EventEmitter();
  let hold: Promise<void> | undefined;
  return {
    written,
    events,
    holdNext(): () => void {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return release;
    },
    host: {
      async writeOwnFile(_path: string, content: string | Uint8Array) {
        const held = hold;
        hold = undefined;
        events.emit('started');
        if (held) await held;
        written.push(String(content));
        events.emit('written');
      },
    },
  };
}

function follow(o: { host: Parameters<typeof startMetricsFile>[0]['host']; render: () => string; path?: string; changes?: EventEmitter }) {
  const changes = o.changes ?? new EventEmitter();
  const failures: Problem[] = [];
  let recoveries = 0;
  const file: MetricsFile = startMetricsFile({
    host: o.host,
    path: o.path ?? '/metrics/crtos.prom',
    render: o.render,
    changes,
    failed: (p) => failures.push(p),
    recovered: () => recoveries++,
    coalesceMs: 5,
  });
  cleanups.push(() => file.close());
  return { file, changes, failures, recoveries: () => recoveries };
}

describe('the metrics file', () => {
  test('written at start; a burst of changes is written once, as the engine is when the window closes', async () => {
    const rec = recordingHost();
    let state = 'v0';
    const { file, changes } = follow({ host: rec.host, render: () => state });
    await until('the write at start', () => rec.written.length === 1, { sources: [eventsOf(rec.events, 'written')], timeoutMs: 5000 });
    expect(rec.written).toEqual(['v0']);
    state = 'v1';
    for (let i = 0; i < 50; i++) changes.emit(['unitChanged', 'unitNew', 'unitRemoved', 'daemonChanged'][i % 4]!);
    state = 'v2';
    await until('the burst to be written', () => rec.written.length === 2, { sources: [eventsOf(rec.events, 'written')], timeoutMs: 5000 });
    // Nothing else was pending: closing writes nothing more.
    await file.close();
    expect(rec.written).toEqual(['v0', 'v2']);
  });

  test('a change while a write is under way is written once more after it; close writes what is pending', async () => {
    const rec = recordingHost();
    let state = 'a';
    const release = rec.holdNext();
    const { file, changes } = follow({ host: rec.host, render: () => state });
    // The write at start is held; one asked for meanwhile writes the engine as it is after it.
    state = 'b';
    const more = file.write();
    state = 'c';
    release();
    await more;
    expect(rec.written).toEqual(['a', 'c']);
    state = 'd';
    changes.emit('daemonChanged');
    await file.close();
    expect(rec.written.at(-1)).toBe('d');
    changes.emit('unitChanged');
    expect(changes.listenerCount('unitChanged')).toBe(0);
  });

  test('a reader never sees part of a file: each read is one whole version (rename, not a write in place)', async () => {
    const dir = tempDir();
    const path = join(dir, 'crtos.prom');
    const stop = join(dir, 'stop');
    const body = 'x'.repeat(1 << 20);
    let version = 0;
    const { file } = follow({ host: createLinuxHost({ root: '/' }), path, render: () => `v${version} ${body}\n` });
    await file.write();
    const inodeBefore = statSync(path).ino;
    // Reads in a loop in another process, counting the reads that were not one whole version.
    const reader = spawn(process.execPath, [
      '-e',
      `const fs = require('fs'); const [file, stop, size] = process.argv.slice(1); let reads = 0, partial = 0;
       console.log('reading');
       while (!fs.existsSync(stop)) { let t; try { t = fs.readFileSync(file, 'utf8'); } catch { partial++; continue; }
         reads++; if (!/^v\\d+ x+\\n$/.test(t) || t.length - t.indexOf(' ') - 2 !== Number(size)) partial++; }
       console.log(JSON.stringify({ reads, partial }));`,
      path,
      stop,
      String(body.length),
    ]);
    let out = '';
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => reader.on('exit', r));
    cleanups.push(() => void reader.kill());
    await until('the reader to start', () => out.includes('reading'), { sources: [dataOf(reader.stdout)], timeoutMs: 10_000 });
    version = 1;
    await file.write();
    // A rename: the new version is a new file (made while the old one still existed, so its inode
    // differs). Only after the first write: later temporary files may reuse the freed inode.
    expect(statSync(path).ino).not.toBe(inodeBefore);
    for (version = 2; version <= 25; version++) await file.write();
    writeFileSync(stop, '');
    await exited;
    const result = JSON.parse(out.split('\n')[1]!) as { reads: number; partial: number };
    expect(result.reads).toBeGreaterThan(0);
    expect(result.partial).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(`v25 ${body}\n`);
    // No temporary file is left, and none would be collected (node_exporter reads *.prom only).
    expect(readdirSync(dir).sort()).toEqual(['crtos.prom', 'stop']);
  });

  test('a directory it cannot write is reported once, naming the path and the fix; the next write after a fix says so', async () => {
    const dir = tempDir();
    // A file where the directory should be: ENOTDIR, whoever runs the test (root too).
    writeFileSync(join(dir, 'textfile'), '');
    const path = join(dir, 'textfile', 'crtos.prom');
    const { file, changes, failures, recoveries } = follow({ host: createLinuxHost({ root: '/' }), path, render: () => 'crtos_build_info{version="0.1.0"} 1\n' });
    await file.write();
    changes.emit('unitChanged');
    await file.write();
    await file.write();
    expect(failures).toEqual([
      {
        code: 'ENGINE_METRICS_FILE',
        message: `cannot write the metrics file ${path}: Not a directory; crtosd runs on without it`,
        file: path,
        hint: `make ${join(dir, 'textfile')} a directory crtosd can write (node_exporter's --collector.textfile.directory), or give --metrics-file another path; the file is written again at the next change`,
      },
    ]);
    expect(recoveries()).toBe(0);
    rmSync(join(dir, 'textfile'));
    mkdirSync(join(dir, 'textfile'));
    await file.write();
    expect(recoveries()).toBe(1);
    expect(failures).toHaveLength(1);
    expect(readFileSync(path, 'utf8')).toBe('crtos_build_info{version="0.1.0"} 1\n');
  });
});

describe('the metrics file of a running engine', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.cleanup();
    f = undefined;
  });

  test('an unwritable metrics file leaves the bring-up alone: every unit comes up, the failure is reported once', async () => {
    f = await makeFixture();
    const m = f.manager();
    const dir = tempDir();
    writeFileSync(join(dir, 'textfile'), '');
    const { failures } = follow({ host: createLinuxHost({ root: '/' }), path: join(dir, 'textfile', 'crtos.prom'), render: () => renderMetrics(takeSnapshot(m)), changes: m });
    await m.start();
    await settle(m);
    m.close();
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(failures.map((p) => p.code)).toEqual(['ENGINE_METRICS_FILE']);
  });
});
