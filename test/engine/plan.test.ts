import { describe as group, expect, test } from 'vitest';
import { plan, type Plan } from '../../src/engine/plan.js';
import { describe, exampleFiles, observedAll, recordsOf, setFrom } from './plan-fixtures.js';

const jobsOf = (p: Plan) => p.jobs.map((j) => `${j.type} ${j.unit}`);
const indexOf = (p: Plan, type: string, unit: string) => p.jobs.findIndex((j) => j.type === type && j.unit === unit);
/** Whether job a (transitively) waits for job b. */
function waitsFor(p: Plan, a: number, b: number): boolean {
  const seen = new Set<number>();
  const stack = [a];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const w of p.jobs[cur]!.waitFor) {
      if (w === b) return true;
      if (seen.has(w)) continue;
      seen.add(w);
      stack.push(w);
    }
  }
  return false;
}

function running(files = exampleFiles()) {
  const set = setFrom(files);
  const descs = describe(set);
  return { set, descs, records: recordsOf(set, descs), observed: observedAll(set, 'active') };
}

function edited(edit: (files: Map<string, string>) => void, example: Parameters<typeof exampleFiles>[0] = 'crtos') {
  const before = running(exampleFiles(example));
  const files = exampleFiles(example);
  edit(files);
  const set = setFrom(files);
  return { ...before, set, descs: describe(set) };
}

/**
 * A re-enable of the example's hypervisor: everything above it stopped, the cell before the
 * hypervisor, the loader before the cell. `action`: its step, 'restart' when the operator asked.
 */
function expectReEnable(p: Plan, action: 'restart' | 're-enable'): void {
  const stopped = p.jobs.filter((j) => j.type === 'stop').map((j) => j.unit).sort();
  expect(stopped).toEqual(['crtos-link.network', 'crtos-net.link', 'hello.loader', 'ivshmem-net.driver', 'jailhouse.hypervisor', 'nuttx.cell', 'shadow.driver', 'shadow.link']);
  expect(p.steps.find((s) => s.unit === 'jailhouse.hypervisor')?.action).toBe(action);
  expect(p.steps.some((s) => s.action === 'pending')).toBe(false);
  expect(p.pending.size).toBe(0);
  expect(p.jobs.some((j) => j.unit === 'jailhouse.driver' || j.unit === 'nuttx.image')).toBe(false);
  expect(waitsFor(p, indexOf(p, 'stop', 'jailhouse.hypervisor'), indexOf(p, 'stop', 'nuttx.cell'))).toBe(true);
  expect(waitsFor(p, indexOf(p, 'stop', 'nuttx.cell'), indexOf(p, 'stop', 'hello.loader'))).toBe(true);
  // Everything comes back, the hypervisor first.
  expect(waitsFor(p, indexOf(p, 'start', 'nuttx.cell'), indexOf(p, 'start', 'jailhouse.hypervisor'))).toBe(true);
  expect(waitsFor(p, indexOf(p, 'start', 'hello.loader'), indexOf(p, 'start', 'nuttx.cell'))).toBe(true);
}

group('plan', () => {
  test('a cell whose start a crash interrupted, found running, is started to finish (its readiness); a loader so found is adopted', () => {
    const { set, descs, records, observed } = running();
    for (const id of ['nuttx.cell', 'hello.loader']) records.set(id, { ...records.get(id)!, phase: 'starting' });
    const p = plan({ set, descriptions: descs, records, observed, holds: new Map() });
    expect(p.jobs.filter((j) => j.unit === 'nuttx.cell' || j.unit === 'hello.loader').map((j) => [j.type, j.unit, j.reason])).toEqual(
      expect.arrayContaining([
        ['start', 'nuttx.cell', 'finish a start that was interrupted'],
        ['adopt', 'hello.loader', 'start finished before the daemon restarted'],
      ]),
    );
    expect(p.jobs.some((j) => j.type === 'stop')).toBe(false);
  });

  test('an empty machine gets a start job per unit, each waiting for what it is ordered after', () => {
    const set = setFrom(exampleFiles());
    const p = plan({ set, descriptions: describe(set), records: new Map(), observed: observedAll(set, 'inactive'), holds: new Map() });
    expect(jobsOf(p).sort()).toEqual([...set.units.keys()].map((id) => `start ${id}`).sort());
    for (const job of p.jobs) {
      for (const pred of [...set.deps.get(job.unit)!.after, ...set.deps.get(job.unit)!.requires]) {
        expect(waitsFor(p, job.index, indexOf(p, 'start', pred)), `${job.unit} after ${pred}`).toBe(true);
      }
    }
    expect(waitsFor(p, indexOf(p, 'start', 'hello.loader'), indexOf(p, 'start', 'jailhouse.driver'))).toBe(true);
  });

  test('a converged machine gets no job at all', () => {
    const r = running();
    const p = plan({ set: r.set, descriptions: r.descs, records: r.records, observed: r.observed, holds: new Map() });
    expect(p.jobs).toEqual([]);
  });

  test('an edited loader is restarted alone', () => {
    const r = edited((f) => f.set('hello.yaml', f.get('hello.yaml')!.replace('/opt/crtos/apps/hello]', '/opt/crtos/apps/hello, --verbose]')));
    const p = plan({ set: r.set, descriptions: r.descs, records: r.records, observed: r.observed, holds: new Map() });
    expect(jobsOf(p)).toEqual(['stop hello.loader', 'start hello.loader']);
    expect(p.jobs[1]!.waitFor).toContain(0);
    expect(p.steps).toEqual([{ unit: 'hello.loader', action: 'restart', reason: 'field exec changed' }]);
  });

  test('a new image reloads its cell in place and restarts what requires the cell, before and after', () => {
    const before = running();
    const descs = describe(before.set, { 'nuttx.cell': { load: 'new-image-bytes' }, 'nuttx.image': { path: 'new-image-bytes' } });
    const p = plan({ set: before.set, descriptions: descs, records: before.records, observed: before.observed, holds: new Map() });
    expect(jobsOf(p).sort()).toEqual(['adopt nuttx.image', 'reload nuttx.cell', 'start hello.loader', 'stop hello.loader'].sort());
    expect(waitsFor(p, indexOf(p, 'reload', 'nuttx.cell'), indexOf(p, 'stop', 'hello.loader'))).toBe(true);
    expect(waitsFor(p, indexOf(p, 'start', 'hello.loader'), indexOf(p, 'reload', 'nuttx.cell'))).toBe(true);
  });

  test('a new cell configuration re-creates the cell; a new system configuration is held until a restart of the hypervisor is asked for', () => {
    const cfg = running();
    const p1 = plan({ set: cfg.set, descriptions: describe(cfg.set, { 'nuttx.cell': { config: 'other' } }), records: cfg.records, observed: cfg.observed, holds: new Map() });
    expect(jobsOf(p1).sort()).toEqual(['start hello.loader', 'start nuttx.cell', 'stop hello.loader', 'stop nuttx.cell'].sort());
    expect(p1.steps.find((s) => s.unit === 'nuttx.cell')?.action).toBe('recreate');
    expect(waitsFor(p1, indexOf(p1, 'stop', 'nuttx.cell'), indexOf(p1, 'stop', 'hello.loader'))).toBe(true);
    expect(p1.pending.size).toBe(0);

    // A re-enable destroys every cell: planned and shown, nothing done.
    const newSystem = describe(cfg.set, { 'jailhouse.hypervisor': { system: 'other' } });
    const held = plan({ set: cfg.set, descriptions: newSystem, records: cfg.records, observed: cfg.observed, holds: new Map() });
    expect(held.jobs).toEqual([]);
    expect(held.steps).toEqual([{ unit: 'jailhouse.hypervisor', action: 'pending', reason: expect.stringContaining('crtosctl restart jailhouse.hypervisor') }]);
    expect(held.steps[0]!.reason).toMatch(/^re-enable \(field system changed\)/);
    expect([...held.pending]).toEqual([['jailhouse.hypervisor', expect.objectContaining({ action: 're-enable' })]]);

    // Asked for (crtosctl restart jailhouse.hypervisor): the re-enable and every cell down with it.
    const p2 = plan({ set: cfg.set, descriptions: newSystem, records: cfg.records, observed: cfg.observed, holds: new Map(), restarts: new Set(['jailhouse.hypervisor']) });
    expectReEnable(p2, 'restart');
  });

  test("a cell whose links change with a held re-enable waits with it: not re-created, not even when its restart is asked for; its failure policy's reload in place still runs", () => {
    const cfg = running();
    const descs = describe(cfg.set, { 'jailhouse.hypervisor': { links: 'new' }, 'nuttx.cell': { links: 'new' } });
    descs.get('nuttx.cell')!.heldWith = { links: 'jailhouse.hypervisor' };
    const records = recordsOf(cfg.set, describe(cfg.set, { 'jailhouse.hypervisor': { links: 'old' }, 'nuttx.cell': { links: 'old' } }));
    const base = { set: cfg.set, descriptions: descs, records, observed: cfg.observed, holds: new Map() };
    const held = plan(base);
    expect(held.jobs).toEqual([]);
    expect([...held.pending.keys()].sort()).toEqual(['jailhouse.hypervisor', 'nuttx.cell']);
    expect(held.pending.get('nuttx.cell')).toEqual({ action: 're-enable', reason: 'field links changed with jailhouse.hypervisor', hint: "applies with jailhouse.hypervisor's re-enable" });
    expect(plan({ ...base, restarts: new Set(['nuttx.cell']) }).jobs).toEqual([]);
    const failed = plan({ ...base, observed: observedAll(cfg.set, 'active', { 'nuttx.cell': 'failed' }), reloads: new Map([['nuttx.cell', 'cell failed; restarting']]) });
    expect(jobsOf(failed)).toContain('reload nuttx.cell');
    expect(failed.jobs.some((j) => j.unit === 'jailhouse.hypervisor' || (j.unit === 'nuttx.cell' && j.type !== 'reload'))).toBe(false);
    // The restart of the hypervisor takes the cell with it, with its new links.
    expectReEnable(plan({ ...base, restarts: new Set(['jailhouse.hypervisor']) }), 'restart');
  });

  test('a new system configuration re-enables by itself when the Hypervisor unit says reEnableOnChange: true', () => {
    const r = edited((f) => f.set('jailhouse.yaml', f.get('jailhouse.yaml')!.replace('type: jailhouse\n', 'type: jailhouse\nreEnableOnChange: true\n')));
    expect(r.set.units.get('jailhouse.hypervisor')!.spec).toMatchObject({ reEnableOnChange: true });
    const p = plan({ set: r.set, descriptions: describe(r.set, { 'jailhouse.hypervisor': { system: 'other' } }), records: r.records, observed: r.observed, holds: new Map() });
    expectReEnable(p, 're-enable');
    // The flag alone changes nothing on the machine.
    const flagOnly = plan({ set: r.set, descriptions: r.descs, records: r.records, observed: r.observed, holds: new Map() });
    expect(jobsOf(flagOnly)).toEqual(['adopt jailhouse.hypervisor']);
  });

  test('a description-only edit rewrites the record and touches nothing', () => {
    const r = edited((f) => f.set('hello.yaml', f.get('hello.yaml')!.replace('description: hello on NuttX', 'description: hi on NuttX')));
    const p = plan({ set: r.set, descriptions: r.descs, records: r.records, observed: r.observed, holds: new Map() });
    expect(jobsOf(p)).toEqual(['adopt hello.loader']);
  });

  // In the short form the links name the cell as a peer: removing it is an edit of the links too.
  test('a removed cell is stopped after its recorded dependents, and nothing else moves (hand-written example)', () => {
    const r = edited((f) => {
      f.set('nuttx.yaml', f.get('nuttx.yaml')!.split('---')[0]!);
      f.delete('hello.yaml');
    }, 'crtos-handwritten');
    const p = plan({ set: r.set, descriptions: r.descs, records: r.records, observed: r.observed, holds: new Map() });
    expect(jobsOf(p).sort()).toEqual(['stop hello.loader', 'stop nuttx.cell']);
    expect(p.jobs.every((j) => j.final)).toBe(true);
    expect(waitsFor(p, indexOf(p, 'stop', 'nuttx.cell'), indexOf(p, 'stop', 'hello.loader'))).toBe(true);
  });

  test('a unit held after a failure blocks what requires it and starts nothing else', () => {
    const set = setFrom(exampleFiles());
    const p = plan({
      set,
      descriptions: describe(set),
      records: new Map(),
      observed: observedAll(set, 'inactive'),
      holds: new Map([['jailhouse.hypervisor', { reason: 'failed' as const }]]),
    });
    expect(p.jobs.map((j) => j.unit).sort()).toEqual(['jailhouse.driver', 'nuttx.image']);
    expect([...p.blocked.keys()].sort()).toEqual(['crtos-link.network', 'crtos-net.link', 'hello.loader', 'ivshmem-net.driver', 'nuttx.cell', 'shadow.driver', 'shadow.link']);
  });

  test('a half-made unit is resumed when its description is the recorded one, rebuilt otherwise', () => {
    const r = running();
    const observed = observedAll(r.set, 'active', { 'nuttx.cell': 'partial', 'hello.loader': 'inactive' });
    const p = plan({ set: r.set, descriptions: r.descs, records: r.records, observed, holds: new Map() });
    expect(jobsOf(p).sort()).toEqual(['start hello.loader', 'start nuttx.cell']);
    const p2 = plan({ set: r.set, descriptions: describe(r.set, { 'nuttx.cell': { config: 'x' } }), records: r.records, observed, holds: new Map() });
    expect(jobsOf(p2).sort()).toEqual(['start hello.loader', 'start nuttx.cell', 'stop nuttx.cell']);
  });

  test('a manual stop takes the units that require it down too, in reverse order', () => {
    const r = running();
    const p = plan({ set: r.set, descriptions: r.descs, records: r.records, observed: r.observed, holds: new Map([['nuttx.cell', { reason: 'stopped' as const }]]) });
    expect(jobsOf(p).sort()).toEqual(['stop hello.loader', 'stop nuttx.cell']);
    expect(waitsFor(p, indexOf(p, 'stop', 'nuttx.cell'), indexOf(p, 'stop', 'hello.loader'))).toBe(true);
  });

  test('a running unit found without a record is adopted, not restarted', () => {
    const r = running();
    const p = plan({ set: r.set, descriptions: r.descs, records: new Map(), observed: r.observed, holds: new Map() });
    expect(new Set(p.jobs.map((j) => j.type))).toEqual(new Set(['adopt']));
  });
});
