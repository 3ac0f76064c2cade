import { afterEach, expect, test } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStateStore, memoryStateStore, type ToolRunRecord } from '../../src/engine/state-file.js';
import type { AppliedRecord } from '../../src/engine/types.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'crtos-state-'));
  dirs.push(d);
  return d;
};

const record: AppliedRecord = { id: 'nuttx.cell', kind: 'Cell', digest: 'd', fields: { load: 'x' }, facts: { cellName: 'nuttx', cpus: [3] }, after: [], requires: [], phase: 'active', updated: 1 };

test('records survive a round trip and leave no temporary file behind', () => {
  const d = dir();
  fileStateStore(join(d, 'sub')).save(new Map([[record.id, record]]));
  expect(fileStateStore(join(d, 'sub')).load()).toEqual({ records: new Map([[record.id, record]]) });
  expect(readdirSync(join(d, 'sub'))).toEqual(['state.json']);
});

test('a missing file is an empty state; a corrupt one is reported and ignored', () => {
  const d = dir();
  expect(fileStateStore(d).load()).toEqual({ records: new Map() });
  writeFileSync(join(d, 'state.json'), '{"version": 1, "units": ');
  const loaded = fileStateStore(d).load();
  expect(loaded.records.size).toBe(0);
  expect(loaded.problem).toMatchObject({ code: 'ENGINE_STATE_FILE', file: join(d, 'state.json') });
});

const run = (pid: number): ToolRunRecord => ({ op: 'createCell', pid, startTime: 42, argv: ['jailhouse', 'cell', 'create', '/etc/jailhouse/nuttx.cell'], unit: 'nuttx.cell', owner: 'a1', started: 1, deadline: 2 });

test('running tools are recorded one file each under tools/, listed, and removed when they end', () => {
  const d = dir();
  const runs = fileStateStore(d).toolRuns!;
  expect(runs.list()).toEqual([]);
  expect(readdirSync(d)).toEqual([]);
  runs.add(run(7));
  runs.add(run(8));
  expect(readdirSync(join(d, 'tools')).sort()).toEqual(['7-42.json', '8-42.json']);
  expect(fileStateStore(d).toolRuns!.list()).toEqual([run(7), run(8)]);
  runs.remove(run(7));
  runs.remove(run(7));
  expect(fileStateStore(d).toolRuns!.list()).toEqual([run(8)]);
  // A torn or foreign file is not a record.
  writeFileSync(join(d, 'tools', '9-42.json'), '{"pid": 9');
  expect(runs.list()).toEqual([run(8)]);
});

test('the memory store records tool runs too', () => {
  const runs = memoryStateStore().toolRuns;
  runs.add(run(7));
  expect(runs.list()).toEqual([run(7)]);
  runs.remove(run(7));
  expect(runs.list()).toEqual([]);
});
