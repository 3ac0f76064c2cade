/**
 * crtosctl's D-Bus client (src/dbus/client.ts) against the real service on a private dbus-daemon:
 * what it decodes is what the manager holds, kind interfaces are read through the kind's view (a
 * kind registered at run time included), job ends arrive as signals, and bus errors become API_
 * problem codes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CrtosClient, problemOfBusError } from '../../src/dbus/client.js';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';
import type { JobInfo, JobResult, JobType } from '../../src/engine/manager-api.js';
import { isProblemError, type Problem } from '../../src/errors/problem.js';
import { registerKind } from '../../src/kinds/registry.js';
import { defineKind, type KindDefinition } from '../../src/kinds/spec-common.js';
import type { Details, KindView } from '../../src/kinds/view.js';
import { crtosUnits, FakeManager, makeUnit } from './helpers/fake-manager.js';
import { startPrivateBus, type PrivateBus } from './helpers/private-bus.js';

/** A kind only this test knows, with a property of every D-Bus type a view may declare. */
const probeView: KindView = {
  iface: 'org.crtos.test.Probe1',
  empty: { label: '', on: false, level: 0, count: 0, since: 0, tags: [], slots: [], env: {} },
  properties: [
    { name: 'Label', type: 's', field: 'label' },
    { name: 'On', type: 'b', field: 'on' },
    { name: 'Level', type: 'i', field: 'level' },
    { name: 'Count', type: 'u', field: 'count' },
    { name: 'Since', type: 't', field: 'since' },
    { name: 'Tags', type: 'as', field: 'tags' },
    { name: 'Slots', type: 'au', field: 'slots' },
    { name: 'Env', type: 'a{ss}', field: 'env' },
  ],
  statusLines: (d: Details) => [['Label', String(d.label)]],
};
registerKind({
  definition: defineKind({
    kind: 'Probe',
    summary: 'a kind of the client test',
    schema: z.object({ kind: z.literal('Probe') }),
    references: () => [],
    files: () => [],
    changes: {},
  }) as unknown as KindDefinition,
  view: probeView,
});

const probeDetails = { kind: 'Probe', label: 'p', on: true, level: -3, count: 7, since: 1_700_000_000_000_000, tags: ['a', 'b'], slots: [1, 2], env: { A: '1' } };

/** Jobs stay queued until the test ends them, so the client's waiting can be observed. */
class HeldJobs extends FakeManager {
  private next = 100;
  private readonly waiting: ((job: JobInfo) => void)[] = [];

  /** Resolves with the next job queued. */
  queued(): Promise<JobInfo> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  override enqueue(id: string, type: JobType): JobInfo {
    const job: JobInfo = { id: this.next++, unit: id, type, state: 'waiting' };
    this.emit('jobNew', job);
    this.setUnit(id, { job });
    this.waiting.shift()?.(job);
    return job;
  }

  finish(job: JobInfo, result: JobResult): void {
    this.setUnit(job.unit, { job: undefined });
    this.emit('jobRemoved', job, result);
  }
}

async function problemOf(p: Promise<unknown>): Promise<Problem> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isProblemError(e)) throw new Error(`expected a ProblemError, got ${String(e)}`);
  expect(e.problems).toHaveLength(1);
  return e.problems[0]!;
}

let bus: PrivateBus;
beforeAll(async () => {
  bus = await startPrivateBus();
});
afterAll(async () => {
  await bus?.stop();
});

describe('reading crtosd', () => {
  let manager: HeldJobs;
  let service: DbusServiceHandle;
  let client: CrtosClient;
  beforeAll(async () => {
    manager = new HeldJobs([...crtosUnits(), makeUnit('p1.probe', probeDetails)]);
    manager.units.set('explode.driver', makeUnit('explode.driver', { kind: 'Driver', module: 'x', parameters: {}, loaded: false }));
    manager.logs.push({ time: 1_700_000_000_000_001, level: 'warn', unit: 'nuttx.cell', message: 'cell is slow' });
    service = await startDbusService(manager, { busAddress: bus.address });
    client = await CrtosClient.connect(bus.address);
  });
  afterAll(async () => {
    client?.close();
    await service?.close();
  });

  it('decodes every built-in kind to the status the manager holds', async () => {
    for (const u of crtosUnits()) expect(await client.unit(u.id)).toEqual(u);
  });

  it('decodes a kind registered at run time through its view, every property type included', async () => {
    expect((await client.unit('p1.probe'))?.details).toEqual(probeDetails);
    const props = await client.properties('p1.probe');
    expect(props).toMatchObject({ Id: 'p1.probe', Kind: 'Probe', Label: 'p', On: true, Level: -3, Count: 7, Since: 1_700_000_000_000_000, Tags: ['a', 'b'], Slots: [1, 2], Env: { A: '1' } });
  });

  it('sends counts clamped to uint32 and decodes them as such', async () => {
    manager.units.set('p2.probe', makeUnit('p2.probe', { ...probeDetails, count: -4, slots: [3, -1] }));
    expect((await client.unit('p2.probe'))?.details).toMatchObject({ count: 0, slots: [3, 0] });
  });

  it('decodes the manager, the unit list, the log and a reload outcome', async () => {
    expect(await client.daemon()).toEqual({ ...manager.daemon(), nUnits: manager.units.size, nJobs: 0 });
    const rows = await client.listUnits();
    expect(rows.find((r) => r.id === 'hello.loader')).toEqual({
      id: 'hello.loader',
      description: 'The hello.loader unit',
      loadState: 'loaded',
      activeState: 'failed',
      subState: 'failed',
      path: '/org/crtos/unit/hello_2eloader',
      jobId: 0,
      jobType: '',
      jobPath: '/',
    });
    expect(await client.unitLog('nuttx.cell', 10)).toEqual([{ time: 1_700_000_000_000_001, level: 'warn', unit: 'nuttx.cell', message: 'cell is slow' }]);
    expect(await client.planReload()).toEqual(manager.reloadOutcome);
  });

  it('says undefined for a unit crtosd does not have, and for a suffix that is no kind', async () => {
    expect(await client.unit('nope.cell')).toBeUndefined();
    expect(await client.unit('nope.nokind')).toBeUndefined();
    expect(await client.unitPath('nope.cell')).toBeUndefined();
    expect(await client.properties('nope.cell')).toBeUndefined();
  });

  it('shows a queued job with its type and state from ListJobs', async () => {
    const queued = manager.queued();
    const path = await client.enqueue('shadow.driver', 'stop');
    const job = await queued;
    expect(path).toBe(`/org/crtos/job/${job.id}`);
    expect((await client.unit('shadow.driver'))?.job).toEqual({ id: job.id, unit: 'shadow.driver', type: 'stop', state: 'waiting' });
    expect(await client.listJobs()).toEqual([job]);
    manager.finish(job, 'done');
  });

  it('reports each job with the result its JobRemoved signal carries', async () => {
    const [first, second] = [manager.queued(), manager.queued()];
    const outcomes = client.runJobs([
      { unit: 'nuttx.cell', type: 'start' },
      { unit: 'hello.loader', type: 'restart' },
    ]);
    const [a, b] = await Promise.all([first, second]);
    // The second ends first: results still come back in the order the jobs were given.
    manager.finish(b, 'failed');
    manager.finish(a, 'done');
    expect(await outcomes).toEqual([
      { unit: 'nuttx.cell', type: 'start', jobId: a.id, result: 'done' },
      { unit: 'hello.loader', type: 'restart', jobId: b.id, result: 'failed' },
    ]);
  });

  it('gives up waiting for a job after the timeout with API_TIMEOUT', async () => {
    const queued = manager.queued();
    const p = await problemOf(client.runJobs([{ unit: 'nuttx.image', type: 'start' }], 50));
    expect(p).toMatchObject({ code: 'API_TIMEOUT', unit: 'nuttx.image', message: 'the start job of nuttx.image did not finish within 50 ms' });
    manager.finish(await queued, 'done');
  });

  it('turns NoSuchUnit into API_NO_SUCH_UNIT', async () => {
    const p = await problemOf(client.enqueue('nope.cell', 'start'));
    expect(p).toEqual({ code: 'API_NO_SUCH_UNIT', message: 'Unit nope.cell not loaded.', hint: '`crtosctl list-units` shows the loaded units' });
  });

  it('turns any other error reply into API_CALL_FAILED naming the call and the error', async () => {
    const p = await problemOf(client.unitLog('explode.driver', 5));
    expect(p).toEqual({ code: 'API_CALL_FAILED', message: 'GetUnitLog failed: GetUnitLog failed with an internal error; see the crtosd log (org.crtos.Manager1.Failed)' });
  });

  it('refuses a job type crtosctl cannot queue without calling crtosd', async () => {
    const before = manager.calls.length;
    expect(await problemOf(client.enqueue('nuttx.cell', 'reload'))).toMatchObject({ code: 'API_CALL_FAILED', message: 'job type reload cannot be queued from crtosctl' });
    expect(manager.calls.length).toBe(before);
  });
});

describe('when crtosd is not there', () => {
  let client: CrtosClient | undefined;
  afterEach(() => client?.close());

  it('says API_NO_DAEMON when nobody owns the name', async () => {
    client = await CrtosClient.connect(bus.address);
    const p = await problemOf(client.daemon());
    expect(p).toEqual({ code: 'API_NO_DAEMON', message: `crtosd is not running on ${bus.address} (nobody owns org.crtos.Manager1)`, hint: 'start crtosd, or pass the --bus it uses' });
  });

  it('says API_BUS_UNREACHABLE when there is no bus at the address', async () => {
    const address = `unix:path=${bus.dir}/no-such-socket`;
    client = await CrtosClient.connect(address);
    const p = await problemOf(client.daemon());
    expect(p).toMatchObject({ code: 'API_BUS_UNREACHABLE', message: `cannot connect to the bus at ${address}: no such socket` });
  });

  it('rejects a waiting job with API_NO_DAEMON when crtosd leaves the bus', async () => {
    const manager = new HeldJobs();
    const service = await startDbusService(manager, { busAddress: bus.address });
    client = await CrtosClient.connect(bus.address);
    const queued = manager.queued();
    const outcome = problemOf(client.runJobs([{ unit: 'nuttx.cell', type: 'start' }]));
    await queued;
    // The service answers StartUnit in the microtasks after the job is queued: let it, so the
    // client gets the job's path and then sees crtosd leave.
    await new Promise((resolve) => setImmediate(resolve));
    await service.close();
    expect(await outcome).toMatchObject({ code: 'API_NO_DAEMON', message: 'crtosd left the bus while a job was running; its result is unknown' });
  });
});

describe('problemOfBusError', () => {
  const at = { member: 'StartUnit', text: 'StartUnit needs root; refused for uid 1000', address: 'unix:path=/run/bus' };

  it('maps each error name to the API_ code that claims it', () => {
    expect(problemOfBusError({ ...at, error: 'org.freedesktop.DBus.Error.AccessDenied' })).toEqual({
      code: 'API_ACCESS_DENIED',
      message: 'StartUnit refused: StartUnit needs root; refused for uid 1000',
      hint: 'run as root or as a member of the crtosd admin group',
    });
    expect(problemOfBusError({ ...at, error: 'org.freedesktop.DBus.Error.ServiceUnknown' }).code).toBe('API_NO_DAEMON');
    expect(problemOfBusError({ ...at, error: 'org.freedesktop.DBus.Error.NameHasNoOwner' }).code).toBe('API_NO_DAEMON');
    expect(problemOfBusError({ ...at, error: 'org.freedesktop.DBus.Error.UnknownObject' }).code).toBe('API_NO_SUCH_UNIT');
    expect(problemOfBusError({ ...at, error: 'org.crtos.Manager1.NoSuchUnit' }).code).toBe('API_NO_SUCH_UNIT');
    expect(problemOfBusError({ ...at, error: 'org.freedesktop.DBus.Error.UnknownMethod' })).toEqual({
      code: 'API_CALL_FAILED',
      message: 'StartUnit failed: StartUnit needs root; refused for uid 1000 (org.freedesktop.DBus.Error.UnknownMethod)',
    });
  });
});
