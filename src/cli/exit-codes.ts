/**
 * Exit codes, mapped in one place at the entry point. Verbs return an ExitKind; only
 * crtosctl.entry.ts turns it into a number. Numbers follow systemctl and LSB: 0 success, 1 failure
 * (or problems found), 2 bad usage, 3 unit not active, 4 no such unit.
 */
export type ExitKind = 'ok' | 'failed' | 'usage' | 'inactive' | 'no-such-unit';

export const EXIT_CODES: Record<ExitKind, number> = {
  ok: 0,
  failed: 1,
  usage: 2,
  inactive: 3,
  'no-such-unit': 4,
};
