/**
 * bash's completion for real: the generated script sourced in bash, its function called with
 * COMP_WORDS/COMP_CWORD as bash sets them, COMPREPLY read back; unit ids from a crtosd (the D-Bus
 * service over the in-memory manager) on a private bus, through the built crtosctl.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { startHarness, type Harness } from '../helpers/harness.js';
import { run } from '../../dbus/helpers/run.js';
import { completionFiles, type CompletionFiles } from './shells.js';

let files: CompletionFiles;
let h: Harness;
beforeAll(async () => {
  files = completionFiles();
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
  rmSync(files.dir, { recursive: true, force: true });
});

/** COMPREPLY for the words typed so far (the last one being completed), with crtosd at `bus`. */
async function complete(words: string[], bus = h.bus.address): Promise<string[]> {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _crtosctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await run('bash', ['--norc', '-c', script, 'bash', files.bash, ...words], { env: { ...process.env, PATH: `${files.bin}:${process.env.PATH}`, CRTOS_BUS_ADDRESS: bus } });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('bash completion', () => {
  test('the script registers _crtosctl for crtosctl', async () => {
    const r = await run('bash', ['--norc', '-c', 'source "$1"; complete -p crtosctl', 'bash', files.bash]);
    expect(r.stdout).toBe('complete -F _crtosctl crtosctl\n');
  });

  test('a verb from its prefix; options before the verb', async () => {
    expect(await complete(['crtosctl', 'st'])).toEqual(['status', 'start', 'stop']);
    expect(await complete(['crtosctl', 'is-'])).toEqual(['is-active', 'is-failed']);
    expect(await complete(['crtosctl', '--'])).toEqual(['--bus', '--json', '--no-pager', '--help', '--version']);
    expect(await complete(['crtosctl', '--bus', 'unix:path=/x', 'list-d'])).toEqual(['list-dependencies']);
  });

  test('a verb\'s options, and the fixed values of one (--kind from the kind registry, --signal, --timestamp), also after =', async () => {
    expect(await complete(['crtosctl', 'kill', '--'])).toEqual(expect.arrayContaining(['--signal', '--kill-whom', '--bus', '--json']));
    expect(await complete(['crtosctl', 'list-units', '--type', 'c'])).toEqual(['cell']);
    expect(await complete(['crtosctl', 'list-units', '--kind', '=', 'l'])).toEqual(['loader', 'link']);
    expect(await complete(['crtosctl', 'kill', '-s', 'SIGK'])).toEqual(['SIGKILL']);
    expect(await complete(['crtosctl', 'kill', '--kill-whom', ''])).toEqual(['main', 'all']);
    expect(await complete(['crtosctl', 'show', '--timestamp', 'us'])).toEqual(['us', 'us+utc']);
    // A value that is free text: no unit ids offered for it.
    expect(await complete(['crtosctl', 'start', '--timeout', ''])).toEqual([]);
  });

  test('unit ids from the running daemon, for verbs that take units', async () => {
    expect(await complete(['crtosctl', 'status', ''])).toEqual(['crtos-link.network', 'hello.loader', 'jailhouse.driver', 'jailhouse.hypervisor', 'nuttx.cell', 'nuttx.image', 'shadow.driver']);
    expect(await complete(['crtosctl', 'restart', 'nuttx.c'])).toEqual(['nuttx.cell']);
    expect(await complete(['crtosctl', 'cell-config', ''])).toEqual(['show', 'build', 'check']);
    expect(await complete(['crtosctl', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  test('no daemon on the bus: nothing offered, and nothing said', async () => {
    expect(await complete(['crtosctl', 'status', ''], 'unix:path=/nonexistent/bus')).toEqual([]);
  });
});
