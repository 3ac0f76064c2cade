/**
 * Options that come before the verb (`crtosctl --bus ADDR status`, `crtosctl -q is-active X`,
 * `crtosctl --no-legend list-units`: systemctl takes its options anywhere), moved behind it so the
 * verb parses them as its own and refuses one it does not take. `takesValue` says whether an
 * option reads the next word as its value (`--bus ADDR`); `--opt=value` is one word. `--no-pager`
 * is dropped: crtosctl never pages, and verbs with their own parser need not know it. Also the
 * exit status section of `crtosctl --help`.
 */
export function hoistGlobalOptions(argv: readonly string[], takesValue: (option: string) => boolean): string[] {
  const moved: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--' || a === '-' || !a.startsWith('-')) break;
    if (a !== '--no-pager') moved.push(a);
    if (!a.includes('=') && takesValue(a) && argv[i + 1] !== undefined) moved.push(argv[++i] ?? '');
  }
  if (moved.length === 0 || i >= argv.length) return [...argv];
  const [verb, ...rest] = argv.slice(i);
  return [verb ?? '', ...moved, ...rest];
}

export const EXIT_STATUS_HELP = `
Exit status:
  0  success; for status and is-active: the unit is active; for is-failed: a unit is failed
  1  failure: a job failed, crtosd refused or is unreachable, the unit files have errors, an edit
     was not installed; is-failed: no unit is failed; kill, reset-failed: a unit is not loaded
  2  bad usage
  3  status, is-active: the unit is not active (inactive, failed, in transition)
  4  no such unit (is-active, is-failed: none of the units is known); start, stop, restart:
     crtosd refused the caller (not root, not in its group)
  5  start, stop, restart: no such unit (nothing was queued)
`;
