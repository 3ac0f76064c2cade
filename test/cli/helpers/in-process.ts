/**
 * crtosctl run in the test's own process (its main(), with captured streams): for tests whose
 * kinds or backends are registered only in this process (the fixture kind and backend), which the
 * crtosctl program in dist/ cannot know, and for offline verbs (validate, facts) whose relative
 * paths a test resolves from a directory of its own.
 */
import { Writable } from 'node:stream';
import { main } from '../../../src/cli/crtosctl.entry.js';

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CtlOptions {
  /** The working directory crtosctl resolves relative paths from (default: the test's own). */
  cwd?: string;
}

/** `ctlInProcess('validate', '--units', 'units')`, or with options first: `ctlInProcess({ cwd }, 'validate', …)`. */
export async function ctlInProcess(...args: [CtlOptions, ...string[]] | string[]): Promise<CtlResult> {
  const [first, ...rest] = args;
  const [options, argv]: [CtlOptions, string[]] = typeof first === 'object' ? [first, rest as string[]] : [{}, args as string[]];
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write: (chunk: Buffer, _enc, done) => (append(chunk.toString()), done()) });
  const code = await main(argv, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env: { ...process.env, TZ: 'UTC' },
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  });
  return { code, stdout, stderr };
}
