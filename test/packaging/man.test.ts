// packaging/man/: the pages render without a groff warning, and crtosd(8) documents every option
// `crtosd --help` lists (session 4's --log-level, --poll-interval, --once and --stop-on-exit were
// missing from it), and crtosctl(1) has a paragraph for every verb naming each of its options (it
// lacked facts --path, list-units --plain and -a, list-jobs --no-legend). What they render to in an
// installed package is test/packaging/package-deb.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { USAGE } from '../../src/daemon/args.js';
import { VERBS } from '../../src/cli/crtosctl.entry.js';
import type { OptionSpec } from '../../src/cli/options.js';
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

/** roff as a reader sees the words: macro names, font escapes and quotes gone, `\-` a dash. */
function plainText(roff: string): string {
  return roff.replace(/^\.[A-Z]+ ?/gm, '').replace(/\\f[BIRP]/g, '').replace(/\\-/g, '-').replace(/"/g, '');
}

/** The VERBS section's paragraphs as plain text, by each verb their tag names (`start | stop | restart`). */
export function verbParagraphs(page: string): Map<string, string> {
  const section = page.split(/^\.SH VERBS\n/m)[1]?.split(/^\.SH /m)[0] ?? '';
  const out = new Map<string, string>();
  for (const paragraph of section.split(/^\.TP\n/m).slice(1)) {
    const text = plainText(paragraph);
    const tag = text.split('\n')[0]!.replace(/ \| /g, '|').split(/\s/)[0]!;
    for (const verb of tag.split('|')) out.set(verb, text);
  }
  return out;
}

/** Each spelling of an option (`--kind`, `--type`, `-t`) that `text` does not name. */
export function undocumentedSpellings(spec: OptionSpec, text: string): string[] {
  const spellings = [`--${spec.name}`, ...(spec.alias ? [`--${spec.alias}`] : []), ...(spec.short ? [`-${spec.short}`] : [])];
  return spellings.filter((s) => !new RegExp(`(?<![\\w-])${s}(?![\\w-])`).test(text));
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

  it('reads verbs\' paragraphs and the options they name (so the check below can fail)', () => {
    const page = '.SH VERBS\n.TP\n.BR start | stop " \\fIUNIT\\fR..."\nText\n.B \\-\\-no\\-block\nmore.\n.TP\n.B reload\nRe-read.\n.SH OPTIONS\n.TP\n.B \\-\\-json\n';
    const paragraphs = verbParagraphs(page);
    expect([...paragraphs.keys()]).toEqual(['start', 'stop', 'reload']);
    expect(undocumentedSpellings({ name: 'no-block', help: '' }, paragraphs.get('stop')!)).toEqual([]);
    expect(undocumentedSpellings({ name: 'no', short: 'n', help: '' }, paragraphs.get('stop')!)).toEqual(['--no', '-n']);
    expect(undocumentedSpellings({ name: 'json', help: '' }, paragraphs.get('reload')!)).toEqual(['--json']);
  });

  it('crtosctl(1) has a paragraph for every verb of crtosctl --help, naming each of its options', () => {
    const paragraphs = verbParagraphs(readFileSync(`${MAN}crtosctl.1`, 'utf8'));
    const shown = Object.entries(VERBS).filter(([, v]) => !v.hidden);
    expect([...paragraphs.keys()].sort()).toEqual(shown.map(([name]) => name).sort());
    const missing = shown.flatMap(([name, v]) => v.spec.OPTIONS.flatMap((o) => undocumentedSpellings(o, paragraphs.get(name) ?? '').map((s) => `${name} ${s}`)));
    expect(missing).toEqual([]);
  });

  it('render without a groff warning', async () => {
    for (const page of ['crtosd.8', 'crtosctl.1']) {
      const r = await run('groff', ['-man', '-ww', '-z', `${MAN}${page}`]);
      expect(r, page).toEqual({ code: 0, stdout: '', stderr: '' });
    }
  });
});
