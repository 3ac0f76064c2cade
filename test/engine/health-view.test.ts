/**
 * The health monitor as observers see it: a unit's health record in its status details, on its
 * kind interface (org.crtos.Cell1, org.crtos.Loader1) read with busctl and crtosctl's client from
 * the real service on a private bus, in `crtosctl status`, and saved with the unit's history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDetails, newRuntime, toStatus, type UnitRuntime } from '../../src/engine/status.js';
import { decide, resolveTable } from '../../src/engine/health/table.js';
import { recordDecision } from '../../src/engine/health/record.js';
import { UnitHistories } from '../../src/engine/history.js';
import { memoryStateStore } from '../../src/engine/state-file.js';
import { unitProperties } from '../../src/dbus/properties.js';
import { CrtosClient } from '../../src/dbus/client.js';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';
import { renderUnitStatus } from '../../src/cli/format/status.js';
import { findView } from '../../src/kinds/views.js';
import { FakeManager } from '../dbus/helpers/fake-manager.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { run } from '../dbus/helpers/run.js';

const TABLE = resolveTable({ on: { liveness: 'recover' }, levels: { recover: { action: 'reload', limit: 3, window: 60_000, then: 'cold' }, cold: { action: 'restart' } } }, { failed: { action: 'log', legacy: 'onFailure: none' } });
const AT = Date.UTC(2026, 10, 30, 12, 0, 0);
const WHY = 'liveness failed 3 times (tcp 127.0.0.2:42: connection refused or unreachable)';

/** A runtime of `kind` that raised these events at AT, AT+1 s, …, recorded as the supervisor does. */
function runtimeWith(id: string, kind: 'Cell' | 'Loader', events: ('liveness' | 'failed')[]): UnitRuntime {
  const rt = newRuntime(id, kind, emptyDetails(kind));
  events.forEach((event, i) => {
    const now = AT + i * 1000;
    rt.health = recordDecision(rt.health, TABLE, decide(TABLE, rt.health?.taken ?? {}, event, now)!, event === 'liveness' ? WHY : 'it failed', now);
  });
  return rt;
}

describe('health in a unit status', () => {
  it('a unit that raised events shows their counts, the level and the last event in its details', () => {
    const status = toStatus(runtimeWith('nuttx.cell', 'Cell', ['liveness', 'failed', 'liveness']), undefined);
    expect(status.details).toMatchObject({
      healthEvents: { liveness: 2, failed: 1 },
      healthActions: { reload: 2, log: 1 },
      healthLevel: 'recover',
      healthLastTime: (AT + 2000) * 1000,
      healthLastEvent: 'liveness',
      healthLastAction: 'reload',
      healthLastReason: WHY,
    });
    // None yet: empty counts, and no status lines.
    const quiet = toStatus(newRuntime('hello.loader', 'Loader', emptyDetails('Loader')), undefined);
    expect(quiet.details).toMatchObject({ healthEvents: {}, healthActions: {}, healthLevel: '', healthLastTime: 0 });
    expect(renderUnitStatus({ color: false }, quiet, [], AT)).not.toContain('Health');
  });

  it('names no level in status where the event named an action directly (or an old policy field did)', () => {
    const rt = runtimeWith('hello.loader', 'Loader', ['failed']);
    const lines = findView('Loader')!.statusLines(toStatus(rt, undefined).details);
    expect(lines).toContainEqual(['Health', 'events failed 1; actions log 1']);
    expect(lines.find(([label]) => label === 'Last event')?.[1]).toMatch(/ failed → log: it failed$/);
  });

  it('goes on the kind interface as a{su} counts, strings and a µs timestamp', () => {
    const props = unitProperties(toStatus(runtimeWith('hello.loader', 'Loader', ['liveness']), undefined))['org.crtos.Loader1']!;
    expect(props).toMatchObject({
      HealthEvents: { liveness: 1 },
      HealthActions: { reload: 1 },
      HealthLevel: 'recover',
      HealthLastEventTimestamp: BigInt(AT * 1000),
      HealthLastEvent: 'liveness',
      HealthLastAction: 'reload',
      HealthLastReason: WHY,
    });
  });

  it('is saved with the unit history and restored into the next daemon\'s runtime', () => {
    const store = memoryStateStore();
    const rt = runtimeWith('nuttx.cell', 'Cell', ['liveness', 'liveness']);
    new UnitHistories(store.history, new Map([[rt.id, rt]]), () => undefined).flush();
    const next = newRuntime('nuttx.cell', 'Cell', emptyDetails('Cell'));
    new UnitHistories(store.history, new Map(), () => undefined).restore(next);
    expect(next.health).toEqual(rt.health);
    expect(next.health!.taken).toEqual({ recover: [AT, AT + 1000] });
  });
});

describe('health over D-Bus and in crtosctl status', () => {
  let bus: PrivateBus;
  let service: DbusServiceHandle;
  let client: CrtosClient;
  const cell = toStatus(runtimeWith('nuttx.cell', 'Cell', ['liveness', 'liveness']), undefined);

  beforeAll(async () => {
    bus = await startPrivateBus();
    service = await startDbusService(new FakeManager([cell]), { busAddress: bus.address });
    client = await CrtosClient.connect(bus.address);
  });
  afterAll(async () => {
    client?.close();
    await service?.close();
    await bus?.stop();
  });

  it('busctl reads the counts and the last event from org.crtos.Cell1', async () => {
    const get = async (prop: string) => (await run('busctl', [`--address=${bus.address}`, 'get-property', 'org.crtos.Manager1', '/org/crtos/unit/nuttx_2ecell', 'org.crtos.Cell1', prop])).stdout.trim();
    expect(await get('HealthEvents')).toBe('a{su} 1 "liveness" 2');
    expect(await get('HealthActions')).toBe('a{su} 1 "reload" 2');
    expect(await get('HealthLevel')).toBe('s "recover"');
    expect(await get('HealthLastEventTimestamp')).toBe(`t ${(AT + 1000) * 1000}`);
    expect(await get('HealthLastReason')).toBe(`s "${WHY}"`);
  });

  it("crtosctl's client decodes them as the daemon holds them, and status prints Health and Last event", async () => {
    const read = await client.unit('nuttx.cell');
    expect(read?.details).toEqual(cell.details);
    const text = renderUnitStatus({ color: false }, read!, [], AT + 5000);
    expect(text).toMatch(/^ +Health: events liveness 2; actions reload 2; level recover$/m);
    expect(text).toMatch(new RegExp(`^ +Last event: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d liveness → reload at recover: ${WHY.replace(/[()]/g, '\\$&')}$`, 'm'));
  });
});
