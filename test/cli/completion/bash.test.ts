/**
 * bash's completion for real: the generated script sourced in bash, its function called with
 * COMP_WORDS/COMP_CWORD as bash sets them, COMPREPLY read back; unit ids from a crtosd (the D-Bus
 * service over the in-memory manager) on a private bus, through the built crtosctl.
 */
import { describe, expect, test } from 'vitest';
import { run } from '../../dbus/helpers/run.js';
import { shellFixture } from './shells.js';

const shell = shellFixture();

/**
 * A command line in words as bash gives them to a completion function: split at blanks, and at
 * the ':' and '=' of COMP_WORDBREAKS, each its own word (`--bus unix:path=/x` is five words).
 */
const bashWords = (line: string): string[] => line.split(' ').flatMap((w) => (w === '' ? [''] : w.split(/([:=])/).filter((p) => p !== '')));

/** COMPREPLY for the words typed so far (the last one being completed), with crtosd at `bus`. */
async function complete(words: string[], bus?: string): Promise<string[]> {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _crtosctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await run('bash', ['--norc', '-c', script, 'bash', shell.files().bash, ...words], { env: shell.env(bus) });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('bash completion', () => {
  test('the script registers _crtosctl for crtosctl', async () => {
    const r = await run('bash', ['--norc', '-c', 'source "$1"; complete -p crtosctl', 'bash', shell.files().bash]);
    expect(r.stdout).toBe('complete -F _crtosctl crtosctl\n');
  });

  test('a verb from its prefix; options before the verb', async () => {
    expect(await complete(['crtosctl', 'st'])).toEqual(['status', 'start', 'stop']);
    expect(await complete(['crtosctl', 'is-'])).toEqual(['is-active', 'is-failed']);
    expect(await complete(['crtosctl', '--'])).toEqual(['--bus', '--json', '--no-pager', '--help', '--version']);
    expect(bashWords('crtosctl --bus unix:path=/x list-d')).toEqual(['crtosctl', '--bus', 'unix', ':', 'path', '=', '/x', 'list-d']);
    expect(await complete(bashWords('crtosctl --bus unix:path=/x list-d'))).toEqual(['list-dependencies']);
    expect(await complete(bashWords('crtosctl --bus=unix:abstract=/tmp/b,guid=0f st'))).toEqual(['status', 'start', 'stop']);
    // Within the address: nothing to offer.
    expect(await complete(bashWords('crtosctl --bus unix:path=/r'))).toEqual([]);
    expect(await complete(bashWords('crtosctl --bus '))).toEqual([]);
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

  test('unit ids from the daemon at the --bus address typed before or after the verb, whole although bash splits it', async () => {
    const address = shell.env().CRTOS_BUS_ADDRESS!;
    expect(address).toMatch(/:.*=/);
    const nowhere = 'unix:path=/nonexistent/bus';
    expect(await complete(bashWords(`crtosctl --bus ${address} restart nuttx.c`), nowhere)).toEqual(['nuttx.cell']);
    expect(await complete(bashWords(`crtosctl restart --bus=${address} nuttx.c`), nowhere)).toEqual(['nuttx.cell']);
  });

  test('no daemon on the bus: nothing offered, and nothing said', async () => {
    expect(await complete(['crtosctl', 'status', ''], 'unix:path=/nonexistent/bus')).toEqual([]);
  });
});
