/**
 * zsh's completion: the generated function found by compinit as an autoloaded #compdef file, and
 * driven for real in an interactive zsh on a pseudo-terminal (zsh/zpty), with compadd wrapped to
 * report what it is given; unit ids from a crtosd (the D-Bus service over the in-memory manager)
 * on a private bus, through the built crtosctl.
 */
import { describe, expect, test } from 'vitest';
import { run } from '../../dbus/helpers/run.js';
import { shellFixture } from './shells.js';

const shell = shellFixture();

// The marker is spelled in two parts so that the terminal's echo of the command line never matches it.
const DRIVER = `
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($1 \\$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a hits; builtin compadd -A hits "$@"; (( $#hits )) || return 1; print -r -- "C""ANDS:\${(j:|:)hits}:E""ND" > /dev/tty; }'
zpty -w z "$2"$'\\t'
zpty -r z out '*CANDS:*:END*'
print -r -- "\${\${out##*CANDS:}%%:END*}"
zpty -d z
`;

/** The candidates zsh's completion offers first (one compadd) for a command line, with crtosd at `bus`. */
async function complete(line: string, bus?: string): Promise<string[]> {
  const r = await run('timeout', ['20', 'zsh', '-f', '-c', DRIVER, 'zsh', shell.files().zshDir, line], { env: shell.env(bus) });
  expect(r.code).toBe(0);
  return r.stdout.trim().split('|');
}

describe('zsh completion', () => {
  test('compinit finds _crtosctl for crtosctl in fpath, and it loads as a function', async () => {
    const script = 'fpath=($1 $fpath); autoload -U compinit; compinit -u -D; print -r -- $_comps[crtosctl]; autoload +X _crtosctl && whence -w _crtosctl';
    const r = await run('zsh', ['-f', '-c', script, 'zsh', shell.files().zshDir], { env: shell.env() });
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: '_crtosctl\n_crtosctl: function\n' });
  });

  test('verbs from a prefix, fixed option values, unit ids from the daemon', async () => {
    expect(await complete('crtosctl st')).toEqual(['status', 'start', 'stop']);
    expect(await complete('crtosctl kill --kill-whom ')).toEqual(['main', 'all']);
    expect(await complete('crtosctl restart nuttx.')).toEqual(['nuttx.cell', 'nuttx.image']);
  });

  test('unit ids from the crtosd at the --bus on the line (the environment\'s bus has none), before or after the verb', async () => {
    const address = shell.env().CRTOS_BUS_ADDRESS!;
    const nowhere = 'unix:path=/nonexistent/bus';
    expect(await complete(`crtosctl --bus ${address} restart nuttx.`, nowhere)).toEqual(['nuttx.cell', 'nuttx.image']);
    expect(await complete(`crtosctl restart --bus=${address} nuttx.`, nowhere)).toEqual(['nuttx.cell', 'nuttx.image']);
  });
});
