/**
 * crtosd's log sinks as the daemon uses them: `<N>` prefixes under systemd without the journal,
 * and the REAL systemd-journald (a private one, ./log/journald.ts says how) receiving crtosd's
 * records with PRIORITY and CRTOS_UNIT, filtered by `journalctl -p err`, and a loader's lines
 * under the loader's own name and PID.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeFixture, type Fixture } from '../engine/harness.js';
import { every, until } from '../helpers/wait-for.js';
import { runOnce, startDaemon, type Daemon } from './run.js';
import { startJournald, type PrivateJournal } from './log/journald.js';

/** A loader that needs nothing else, so it runs whatever fails: prints, one line with `<3>`, then stays. */
function addTalker(f: Fixture): void {
  const file = join(f.machine.dir, 'opt/test/talker.sh');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\necho "hello from the talker"\necho "<3>the talker is unhappy" >&2\nexec sleep 300\n');
  chmodSync(file, 0o755);
  f.writeUnit('talker.yaml', 'kind: Loader\nname: talker\nexec: [/opt/test/talker.sh]\n');
}

describe('under systemd without the journal socket', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await makeFixture();
    await f.machine.setFaults([{ op: 'jailhouse enable', errno: 'EINVAL' }]);
  });
  afterAll(() => f.cleanup());

  test('INVOCATION_ID or JOURNAL_STREAM: every record is an sd-daemon <N> line on stderr', async () => {
    for (const env of [{ INVOCATION_ID: '0123456789abcdef0123456789abcdef' }, { JOURNAL_STREAM: '8:12345' }]) {
      const r = await runOnce(f, [], { ...env, CRTOS_JOURNAL_SOCKET: join(f.stateDir, 'no-journal-here') });
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('<'));
      expect(lines).toContain('<6>jailhouse.hypervisor: start: new unit');
      expect(lines.some((l) => /^<3>jailhouse\.hypervisor: .*jailhouse enable/.test(l))).toBe(true);
      expect(r.stderr).not.toContain('{"level"');
    }
  });

  test('--log-format json keeps JSON lines there', async () => {
    const r = await runOnce(f, ['--log-format', 'json'], { INVOCATION_ID: '0123456789abcdef0123456789abcdef' });
    expect(r.stderr).toMatch(/^\{"level":50,"time":\d+,"unit":"jailhouse\.hypervisor","msg":"start failed: jailhouse enable .*"\}$/m);
    expect(r.stderr).not.toMatch(/^<\d>/m);
  });
});

describe('with the journal (a private, real systemd-journald)', () => {
  let journal: PrivateJournal;
  let f: Fixture;
  let d: Daemon;
  beforeAll(async () => {
    journal = await startJournald();
    f = await makeFixture();
    addTalker(f);
    await f.machine.setFaults([{ op: 'jailhouse enable', errno: 'EINVAL' }]);
    d = startDaemon(f, [], { CRTOS_JOURNAL_SOCKET: journal.socket });
  });
  afterAll(async () => {
    d?.child.kill('SIGTERM');
    await d?.exited;
    await f?.cleanup();
    await journal?.stop();
  });

  /** Waits until journalctl finds an entry matching `want` among those its arguments select. */
  async function entry(args: string[], want: (e: Record<string, string>) => boolean): Promise<Record<string, string>> {
    let found: Record<string, string> | undefined;
    let last: Record<string, string>[] = [];
    // journald writes each entry as it receives it, into a memory-mapped file: looked at again and again.
    await until(`journalctl ${args.join(' ')} to find the entry`, async () => {
      last = await journal.entries(...args);
      found = last.find(want);
      return found !== undefined;
    }, { sources: [every(100)], timeoutMs: 20_000, detail: () => `${JSON.stringify(last.slice(-5))}\n${d.output()}` });
    return found!;
  }

  test("crtosd's records carry PRIORITY, SYSLOG_IDENTIFIER and the unit as CRTOS_UNIT; nothing goes to stdout", async () => {
    const failed = await entry(['CRTOS_UNIT=jailhouse.hypervisor'], (e) => e.PRIORITY === '3');
    expect(failed).toMatchObject({ SYSLOG_IDENTIFIER: 'crtosd', SYSLOG_PID: String(d.child.pid), CRTOS_UNIT: 'jailhouse.hypervisor' });
    expect(failed.MESSAGE).toMatch(/^jailhouse\.hypervisor: .*jailhouse enable/);
    const starting = await entry(['SYSLOG_IDENTIFIER=crtosd'], (e) => e.MESSAGE?.startsWith('crtosd 0.1.0 starting') === true);
    expect(starting).toMatchObject({ PRIORITY: '6', ROOT: f.machine.dir });
    expect(starting.CRTOS_UNIT).toBeUndefined();
    expect(d.output()).not.toContain('{"level"');
  });

  test('journalctl -p err shows the errors and none of the info lines', async () => {
    await entry(['CRTOS_UNIT=jailhouse.hypervisor'], (e) => e.PRIORITY === '3');
    const errors = await journal.entries('-p', 'err', 'SYSLOG_IDENTIFIER=crtosd');
    expect(errors.some((e) => e.CRTOS_UNIT === 'jailhouse.hypervisor')).toBe(true);
    expect(errors.every((e) => Number(e.PRIORITY) <= 3)).toBe(true);
    expect(errors.some((e) => e.MESSAGE?.startsWith('crtosd 0.1.0 starting'))).toBe(false);
  });

  test("a loader's lines go to the journal under its name and PID, priority 6 or its own <N>", async () => {
    const hello = await entry(['CRTOS_UNIT=talker.loader', 'SYSLOG_IDENTIFIER=talker.sh'], (e) => e.MESSAGE === 'hello from the talker');
    expect(hello.PRIORITY).toBe('6');
    expect(Number(hello.SYSLOG_PID)).toBeGreaterThan(0);
    const unhappy = await entry(['CRTOS_UNIT=talker.loader', '-p', 'err'], (e) => e.MESSAGE === 'the talker is unhappy');
    expect(unhappy).toMatchObject({ PRIORITY: '3', SYSLOG_IDENTIFIER: 'talker.sh', SYSLOG_PID: hello.SYSLOG_PID });
  });
});
