/**
 * crtosctl run in the test's own process (its main(), with captured streams): for tests whose
 * kinds or backends are registered only in this process (the fixture kind and backend), which the
 * crtosctl program in dist/ cannot know.
 */
import { Writable } from 'node:stream';
import { main } from '../../../src/cli/crtosctl.entry.js';

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function ctlInProcess(...argv: string[]): Promise<CtlResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write: (chunk: Buffer, _enc, done) => (append(chunk.toString()), done()) });
  const code = await main(argv, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env: { ...process.env, TZ: 'UTC' },
    cwd: process.cwd(),
    isTTY: false,
  });
  return { code, stdout, stderr };
}
