// packaging/man/: the pages render without a groff warning, and crtosd(8) documents every option
// `crtosd --help` lists (session 4's --log-level, --poll-interval, --once and --stop-on-exit were
// missing from it). What they render to in an installed package is test/packaging/package-deb.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { USAGE } from '../../src/daemon/args.js';
import { run } from '../dbus/helpers/run.js';

const MAN = fileURLToPath(new URL('../../packaging/man/', import.meta.url));

/** The long options a --help text lists, each at the start of its line. */
export function optionsOf(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
}

/** The options a man page documents: each a tagged paragraph (.TP) whose tag names it. */
export function documentedOptions(page: string): string[] {
  return [...page.matchAll(/^\.TP\n\.B[IR]? (.*)$/gm)].flatMap((m) => [...m[1]!.matchAll(/\\-\\-([a-z-]+)/g)].map((o) => `--${o[1]}`));
}

describe('the man pages', () => {
  it('reads options from a help text and from a page (so the check below can fail)', () => {
    expect(optionsOf('Usage: x\n  --units DIR   d\n  -h, --help  h\n                --not-this\n')).toEqual(['--units', '--help']);
    expect(documentedOptions('.TP\n.BI \\-\\-units " DIR"\nText \\-\\-root\n.TP\n.BR \\-h ", " \\-\\-help\n')).toEqual(['--units', '--help']);
  });

  it('crtosd(8) documents every option of crtosd --help, and no other', () => {
    const page = readFileSync(`${MAN}crtosd.8`, 'utf8');
    const help = optionsOf(USAGE);
    expect(help.length).toBeGreaterThan(10);
    expect(documentedOptions(page).sort()).toEqual([...help].sort());
  });

  it('render without a groff warning', async () => {
    for (const page of ['crtosd.8', 'crtosctl.1']) {
      const r = await run('groff', ['-man', '-ww', '-z', `${MAN}${page}`]);
      expect(r, page).toEqual({ code: 0, stdout: '', stderr: '' });
    }
  });
});
