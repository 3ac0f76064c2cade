import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryTmpdir } from '../src/sim/scratch.js';

/**
 * Builds dist/ once, so tests that run crtosd, crtosctl or the simulator's stand-in tools use the
 * same bundles users run (skipped when `npm test` already built: CRTOS_SKIP_BUILD=1). Gives the
 * run a temporary directory of its own on a memory file system when there is one (the simulated
 * machines' sysfs and procfs, and crtosd's /run, are memory file systems on a real machine), and
 * removes it with whatever a test left there. It is world-writable and sticky, as /tmp is, for the
 * tests that run a command as another user.
 */
export default function setup(): () => void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (process.env.CRTOS_SKIP_BUILD !== '1') execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  const runDir = mkdtempSync(join(memoryTmpdir(), 'crtos-test-'));
  chmodSync(runDir, 0o1777);
  process.env.TMPDIR = runDir;
  return () => rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
}
