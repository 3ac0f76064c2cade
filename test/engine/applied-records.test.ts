/** Applied records: a record of a kind this daemon does not know is reported and kept, never acted on. */
import { describe, expect, test } from 'vitest';
import { AppliedRecords } from '../../src/engine/applied-records.js';
import { memoryStateStore } from '../../src/engine/state-file.js';
import type { AppliedRecord } from '../../src/engine/types.js';

const record = (id: string, kind: string): AppliedRecord => ({ id, kind, digest: 'd', fields: {}, facts: {}, after: [], requires: [], phase: 'active', updated: 0 });

describe('AppliedRecords', () => {
  test('sets aside a record of an unknown kind with a problem naming it, and keeps it in the state file', () => {
    const store = memoryStateStore([
      ['x.gadget', record('x.gadget', 'Gadget')],
      ['jailhouse.driver', record('jailhouse.driver', 'Driver')],
    ]);
    const records = new AppliedRecords(store, () => undefined);
    const problems = records.load();
    expect(problems).toEqual([expect.objectContaining({ code: 'ENGINE_STATE_FILE', unit: 'x.gadget', message: expect.stringContaining('of kind Gadget, which this crtosd does not know') })]);
    expect([...records.map.keys()]).toEqual(['jailhouse.driver']);
    records.delete('jailhouse.driver');
    expect([...store.records.keys()]).toEqual(['x.gadget']);
  });
});
