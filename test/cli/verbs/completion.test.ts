/**
 * `crtosctl completion SHELL` as the Debian package runs it at build time (the built crtosctl),
 * and the hidden `__complete units` the scripts call: fast and silent without a daemon.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { constants } from 'node:os';
import { run } from '../../dbus/helpers/run.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { CRTOSCTL } from '../completion/shells.js';
import { completionModel } from '../../../src/cli/completion/model.js';
import { bashScript } from '../../../src/cli/completion/bash.js';
import { zshScript } from '../../../src/cli/completion/zsh.js';
import { fishScript } from '../../../src/cli/completion/fish.js';
import { VERBS } from '../../../src/cli/crtosctl.entry.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

describe('crtosctl completion', () => {
  test('prints each shell\'s script, made from the verb table', async () => {
    const model = completionModel(VERBS, Object.keys(constants.signals));
    for (const [shell, script] of [['bash', bashScript], ['zsh', zshScript], ['fish', fishScript]] as const) {
      expect(await run(process.execPath, [CRTOSCTL, 'completion', shell])).toMatchObject({ code: 0, stderr: '', stdout: script(model) });
    }
  });

  test('another shell, or none, is bad usage; completion lists the shells in its help', async () => {
    expect((await h.ctl(['completion', 'tcsh'])).code).toBe(2);
    expect((await h.ctl(['completion'])).code).toBe(2);
    expect((await h.ctl(['completion', '--help'])).stdout).toContain('Usage: crtosctl completion [OPTIONS...] bash|zsh|fish');
  });
});

describe('crtosctl __complete units', () => {
  test('the daemon\'s unit ids, sorted, one a line; hidden from --help', async () => {
    expect(await h.ctl(['__complete', 'units'])).toMatchObject({ code: 0, stdout: 'crtos-link.network\nhello.loader\njailhouse.driver\njailhouse.hypervisor\nnuttx.cell\nnuttx.image\nshadow.driver\n' });
    expect((await h.ctl(['--help'])).stdout).not.toContain('__complete');
  });

  test('no daemon: nothing on stdout or stderr, exit 0', async () => {
    const r = await run(process.execPath, [CRTOSCTL, '__complete', 'units'], { env: { ...process.env, CRTOS_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});
