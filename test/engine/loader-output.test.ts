/**
 * A loader's output in its unit's log (what `crtosctl status UNIT` shows under the unit, through
 * GetUnitLog) and its output file rotated at the cap while the loader runs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { until, makeEmptyFixture, scriptLoader, stopAllAndCleanup, untilUnit, pidOf, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import type { LogLine } from '../../src/engine/manager-api.js';
import { OUTPUT_ROTATION } from '../../src/engine/loader-output.js';
import { renderUnitStatus } from '../../src/cli/format/status.js';
import { tell } from '../sim/helpers.js';
import { changesOf, eventsOf, until as untilWoken } from '../helpers/wait-for.js';



/** Resolves once a line of the unit's log matches: checked now, then on each line the manager logs. */
function untilLogLine(m: Manager, id: string, match: (l: LogLine) => boolean): Promise<void> {
  return untilWoken(`a matching log line of ${id}`, () => m.unitLog(id, 0).some(match), {
    sources: [eventsOf(m, 'log')],
    timeoutMs: 15_000,
    detail: () => `the log: ${JSON.stringify(m.unitLog(id, 0))}`,
  });
}

describe('loader output', () => {
  let f: Fixture;
  let m: Manager;
  let logDir: string;

  const loader = (name: string, script: string, fields = ''): string => scriptLoader(f, name, script, fields);

  beforeAll(async () => {
    f = await makeEmptyFixture();
    logDir = join(f.stateDir, 'logs');
  });
  afterAll(() => stopAllAndCleanup(f, m));

  test('status shows the last lines the loader wrote, stdout and stderr, labelled with program and PID', async () => {
    const id = loader('talker', 'echo "hello from the loader"\necho "in $(pwd)"\necho "on stderr" >&2\nexec sleep 300');
    m = f.manager({ logDir });
    await m.start();
    const pid = pidOf(await untilUnit(m, id, (s) => s.activeState === 'active'));
    await untilLogLine(m, id, (l) => l.message.endsWith('on stderr'));
    const log = m.unitLog(id, 3).map((l) => l.message);
    expect(log).toEqual([`talker.sh[${pid}]: hello from the loader`, `talker.sh[${pid}]: in ${f.machine.dir}`, `talker.sh[${pid}]: on stderr`]);
    const text = renderUnitStatus({ color: false }, m.getUnit(id)!, m.unitLog(id, 10), Date.now());
    expect(text).toContain(`talker.loader: talker.sh[${pid}]: on stderr`);
    expect(readFileSync(join(logDir, `${id}.log`), 'utf8')).toBe(`hello from the loader\nin ${f.machine.dir}\non stderr\n`);
  });

  test('a loader\'s last lines come before its exit in the log', async () => {
    const id = loader('quitter', 'echo "cannot open /dev/shadow-process0"\nexit 3');
    await m.reload();
    await untilUnit(m, id, (s) => s.activeState === 'failed');
    const log = m.unitLog(id, 0).map((l) => l.message);
    const said = log.findIndex((l) => /^quitter\.sh\[\d+\]: cannot open \/dev\/shadow-process0$/.test(l));
    const exited = log.findIndex((l) => /^process \d+ exited with code 3$/.test(l));
    expect(said).toBeGreaterThanOrEqual(0);
    expect(said).toBeLessThan(exited);
  });

  test(`the output file is rotated at ${OUTPUT_ROTATION.maxBytes} bytes while the loader runs`, async () => {
    // 4001-byte lines past the cap (fewer lines than the log's rate limit lets through), then a
    // line after the rotation, from the same process (told when by a FIFO it opens relative to its
    // working directory, the machine root).
    const lines = Math.ceil(OUTPUT_ROTATION.maxBytes / 4001) + 10;
    const id = loader('chatty', `yes "$(printf '%4000s' x)" | head -n ${lines}\nread go < opt/test/go\necho after rotation\nexec sleep 300`);
    const fifo = join(f.machine.dir, 'opt/test/go');
    execFileSync('mkfifo', [fifo]);
    await m.reload();
    const pid = pidOf(await untilUnit(m, id, (s) => s.activeState === 'active'));
    const file = join(logDir, `${id}.log`);
    // Rotated once it passed the cap (the rest of the burst, if any, goes on in the emptied file).
    await until(() => existsSync(`${file}.1`) && statSync(`${file}.1`).size >= OUTPUT_ROTATION.maxBytes && statSync(file).size < OUTPUT_ROTATION.maxBytes, 15_000, 'the output file rotated', [changesOf(logDir)]);
    await tell(fifo, 'go\n');
    await untilLogLine(m, id, (l) => l.message === `chatty.sh[${pid}]: after rotation`);
    // Appended to the emptied file: whole lines, no hole of NULs where the old offset was.
    const rest = readFileSync(file, 'utf8');
    expect(rest.endsWith('after rotation\n')).toBe(true);
    expect(rest.replace(/^( {3999}x\n)*/, '')).toBe('after rotation\n');
    expect(existsSync(`${file}.2`)).toBe(false);
    expect(pidOf(m.getUnit(id))).toBe(pid);
  });
});
