/**
 * crtosd never freezes the machine through a cell that never answers: a non-passive cell with
 * msg_reply_timeout 0 is refused by the check `crtosctl validate` and the daemon share, so the
 * daemon issues no `jailhouse` operation at all for such a set, let alone the freezing one; with a
 * reply timeout the same set runs, and a silent cell then turns failed instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture, settle, states, type Fixture } from '../../engine/harness.js';
import { ctlInProcess } from '../../cli/helpers/in-process.js';
import type { Manager } from '../../../src/engine/manager.js';

/** A second, passive cell on CPU 2 next to the example's nuttx (CPU 3). */
const OTHER = `kind: Cell
name: other
hypervisor: jailhouse
config:
  name: other
  flags: [PASSIVE_COMMREG]
  cpus: 2
  memoryRegions:
    - { virtStart: 0x80000000, size: 4K, flags: [READ, WRITE, COMM_REGION] }
`;

describe('a non-passive cell with msg_reply_timeout 0 next to another cell', () => {
  let f: Fixture;
  let m: Manager;
  beforeAll(async () => {
    f = await makeFixture();
    // The example's nuttx made non-passive, with no reply timeout (the default 0).
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('flags: [PASSIVE_COMMREG]', 'flags: []'));
    f.writeUnit('other.yaml', OTHER);
  });
  afterAll(async () => f.cleanup());

  it('crtosctl validate refuses it at its flags, naming the cell, its neighbour and the fix', async () => {
    const r = await ctlInProcess('validate', '--units', f.unitsDir, '--root', f.machine.dir);
    expect(r.code).toBe(1);
    const line = r.stderr.split('\n').find((l) => l.includes('UNIT_CELL_NO_REPLY_TIMEOUT'));
    expect(line).toMatch(/nuttx\.yaml:\d+:\d+/);
    expect(line).toContain('nuttx.cell is a non-passive cell (no PASSIVE_COMMREG) with msg_reply_timeout 0: stopping it, or creating or destroying other.cell next to it,');
    expect(r.stderr).toContain('give the cell PASSIVE_COMMREG');
    expect(r.stderr).toContain('config.msgReplyTimeout');
  });

  it('the daemon refuses the set whole: the machine sees no jailhouse operation, and nothing hangs', async () => {
    m = f.manager();
    const r = await m.start();
    expect(r.ok).toBe(false);
    expect(r.problems.find((p) => p.code === 'UNIT_CELL_NO_REPLY_TIMEOUT')).toMatchObject({ unit: 'nuttx.cell', file: expect.stringMatching(/nuttx\.yaml$/) });
    const log = await f.machine.readLog();
    expect(log.filter((e) => e.op.startsWith('jailhouse cell') && e.op !== 'jailhouse cell list')).toEqual([]);
    expect(log.filter((e) => e.result === 'hang')).toEqual([]);
  });

  it('with a reply timeout the set runs; a cell that stops answering then turns failed when its neighbour goes, and the machine goes on', async () => {
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('flags: []', 'flags: []\n  msgReplyTimeout: 1000'));
    const r = await m.reload();
    expect(r.ok, JSON.stringify(r.problems)).toBe(true);
    await settle(m);
    expect(states(m)).toMatchObject({ 'nuttx.cell': 'active/success', 'other.cell': 'active/success' });
    await f.machine.setCellReply('nuttx', 'silent');
    f.writeUnit('other.yaml', '# removed\nkind: Image\nname: placeholder\npath: /opt/crtos/nuttx.bin\n');
    expect((await m.reload()).ok).toBe(true);
    await settle(m);
    const log = await f.machine.readLog();
    expect(log.find((e) => e.op === 'jailhouse cell destroy')).toMatchObject({ result: 'ok' });
    expect(log.find((e) => e.op === 'cell failed')).toMatchObject({ args: ['nuttx'], detail: { why: 'reconfiguration message unanswered' } });
    expect(log.filter((e) => e.result === 'hang')).toEqual([]);
    m.close();
  });
});
