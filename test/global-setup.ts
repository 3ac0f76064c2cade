import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Build dist/ once so tests that run crtosd, crtosctl or the simulator's stand-in tools use the
// same bundles users run. Skipped when `npm test` already built (CRTOS_SKIP_BUILD=1).
export default function setup(): void {
  if (process.env.CRTOS_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
}
