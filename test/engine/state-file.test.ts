import { afterEach, expect, test } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStateStore } from '../../src/engine/state-file.js';
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
