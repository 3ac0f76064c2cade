/**
 * Options that may come before the verb (`crtosctl --bus ADDR status`), moved behind it so every
 * verb parses them the same way, and the exit status section of `crtosctl --help`.
 */
const GLOBAL_FLAGS = new Set(['--json', '--no-pager']);
const GLOBAL_VALUES = new Set(['--bus']);

export function hoistGlobalOptions(argv: readonly string[]): string[] {
  const moved: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (GLOBAL_FLAGS.has(a)) {
      if (a !== '--no-pager') moved.push(a);
    } else if (GLOBAL_VALUES.has(a) && argv[i + 1] !== undefined) {
      moved.push(a, argv[++i] ?? '');
    } else if ([...GLOBAL_VALUES].some((o) => a.startsWith(`${o}=`))) {
      moved.push(a);
    } else break;
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
  4  no such unit (is-active, is-failed: none of the units is known)
`;
