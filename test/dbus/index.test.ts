// startDbusService's life cycle: a bus that is not there yet, a bus that restarts, a name taken.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDbusService } from '../../src/dbus/index.js';
import { startPrivateBus } from './helpers/private-bus.js';
import { FakeManager } from './helpers/fake-manager.js';
import { run } from './helpers/run.js';
import { isProblemError } from '../../src/errors/problem.js';
import type { Logger } from 'pino';
import { EventEmitter } from 'node:events';
import { eventsOf, until } from '../helpers/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'crtos-bus-restart-'));
chmodSync(dir, 0o755);
const address = `unix:path=${join(dir, 'bus')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const listUnits = () => run('busctl', [`--address=${address}`, 'call', 'org.crtos.Manager1', '/org/crtos/Manager1', 'org.crtos.Manager1', 'ListUnits']);

describe('startDbusService', () => {
  it('waits for a bus that is not up yet, and comes back after the bus restarts', async () => {
    const messages: string[] = [];
    const logged = new EventEmitter();
    const record = (_fields: object, msg: string): void => {
      messages.push(msg);
      logged.emit('line');
    };
    // The service logs each time it has the name on a bus; ListUnits is answered from then on.
    const ready = (times: number) =>
      until(`'D-Bus: service ready' logged ${times} time(s)`, () => messages.filter((m) => m === 'D-Bus: service ready').length >= times, {
        sources: [eventsOf(logged, 'line')],
        timeoutMs: 5000,
        detail: () => `the log:\n${messages.join('\n')}`,
      });
    const logger = { info: record, warn: record, debug: record, error: record } as unknown as Logger;
    const service = await startDbusService(new FakeManager(), { busAddress: address, retryMs: 50, logger });
    expect(messages).toEqual(['D-Bus: bus unreachable; serving D-Bus as soon as it answers']);
    let bus = await startPrivateBus({ dir });
    try {
      await ready(1);
      expect((await listUnits()).code).toBe(0);
      await bus.stop();
      bus = await startPrivateBus({ dir });
      await ready(2);
      expect((await listUnits()).stdout).toContain('nuttx.cell');
      expect(messages.filter((m) => !m.includes('still unreachable'))).toEqual([
        'D-Bus: bus unreachable; serving D-Bus as soon as it answers',
        'D-Bus: service ready',
        'D-Bus: lost the bus; reconnecting',
        'D-Bus: service ready',
      ]);
    } finally {
      await service.close();
      await bus.stop();
    }
  });

  it('fails with API_NAME_TAKEN when another crtosd owns the name', async () => {
    const bus = await startPrivateBus();
    const first = await startDbusService(new FakeManager(), { busAddress: bus.address });
    try {
      const second = await startDbusService(new FakeManager(), { busAddress: bus.address }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isProblemError(second) && second.problems[0]?.code).toBe('API_NAME_TAKEN');
    } finally {
      await first.close();
      await bus.stop();
    }
  });
});
