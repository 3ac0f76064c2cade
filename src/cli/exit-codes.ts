/**
 * Exit codes, mapped in one place at the entry point. Verbs return an ExitKind; only
 * crtosctl.entry.ts turns it into a number. Numbers follow systemctl and LSB: 0 success, 1 failure
 * (or problems found), 2 bad usage; for the verbs that report a state (status, is-active, ...), LSB's
 * status codes: 3 unit not active, 4 no such unit; for start, stop and restart, LSB's init-script
 * codes as systemctl maps crtosd's refusals to them: 4 insufficient privilege, 5 no such unit.
 */
export type ExitKind = 'ok' | 'failed' | 'usage' | 'inactive' | 'no-such-unit' | 'no-permission' | 'not-installed';

export const EXIT_CODES: Record<ExitKind, number> = {
  ok: 0,
  failed: 1,
  usage: 2,
  inactive: 3,
  'no-such-unit': 4,
  'no-permission': 4,
  'not-installed': 5,
};
