/**
 * `crtosctl analyze dot`: the dependency graph in Graphviz's language, styled as systemd-analyze
 * dot styles it: requirement edges black (Requires, which includes the references between units)
 * and grey66 (Wants), ordering edges green (After). `--order` draws only the ordering, `--require`
 * only the requirements. Given unit patterns (globs), only edges from or to a matching unit.
 */
import type { UnitTimes } from './data.js';
import { globToRegExp } from '../../lib/glob.js';

export type DotSelection = 'all' | 'order' | 'require';

/** Colour by dependency, systemd-analyze's. */
export const EDGE_COLOURS = { requires: 'black', wants: 'grey66', after: 'green' } as const;

export const DOT_LEGEND = '   Color legend: black     = Requires\n                 dark grey = Wants\n                 green     = After\n';

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Shell-style globs as a whole-string test, as systemd-analyze matches its patterns; no pattern matches all. */
export function globMatcher(patterns: readonly string[]): (id: string) => boolean {
  if (patterns.length === 0) return () => true;
  const res = patterns.map(globToRegExp);
  return (id) => res.some((re) => re.test(id));
}

export function renderDot(units: readonly UnitTimes[], selection: DotSelection = 'all', patterns: readonly string[] = []): string {
  const matches = globMatcher(patterns);
  const kinds: (keyof typeof EDGE_COLOURS)[] = selection === 'order' ? ['after'] : selection === 'require' ? ['requires', 'wants'] : ['after', 'requires', 'wants'];
  const lines: string[] = [];
  for (const u of [...units].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    for (const kind of kinds) {
      for (const to of u[kind]) {
        if (!matches(u.id) && !matches(to)) continue;
        lines.push(`\t${quote(u.id)}->${quote(to)} [color=${quote(EDGE_COLOURS[kind])}];\n`);
      }
    }
  }
  const legend = `\t// ${DOT_LEGEND.trim().replace(/\n\s*/g, ', ').replace(/\s+/g, ' ')}\n`;
  return `digraph crtosd {\n${legend}${lines.join('')}}\n`;
}
