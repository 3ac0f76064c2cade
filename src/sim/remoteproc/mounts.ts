/**
 * The FUSE mounts of simulated machines, as the host sees them: which are there
 * (/proc/self/mountinfo) and how they go (fusermount3 -u, lazily if something holds them).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points of FUSE file systems under `dir` (the directory itself included), deepest first. */
export function fuseMountsUnder(dirArg: string): string[] {
  const dir = resolve(dirArg);
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountpoint = unescapeMountinfo(left.split(' ')[4] ?? '');
    const fstype = right.split(' ')[0] ?? '';
    if (!fstype.startsWith('fuse')) continue;
    if (mountpoint === dir || mountpoint.startsWith(`${dir}/`)) found.push(mountpoint);
  }
  return found.sort((a, b) => b.length - a.length);
}

/**
 * Unmounts a FUSE mount: `fusermount3 -u` (the bridge then exits by itself); if something holds it
 * (EBUSY) or `lazy`, detaches it at once (-z). Falls back to fusermount (FUSE 2) and umount -l.
 * Returns whether one of them succeeded.
 */
export function unmount(mountpoint: string, opts: { lazy?: boolean } = {}): boolean {
  const attempts: [string, string[]][] = [
    ...(opts.lazy ? [] : ([['fusermount3', ['-u', mountpoint]]] as [string, string[]][])),
    ['fusermount3', ['-u', '-z', mountpoint]],
    ['fusermount', ['-u', '-z', mountpoint]],
    ['umount', ['-l', mountpoint]],
  ];
  for (const [tool, args] of attempts) {
    try {
      execFileSync(tool, args, { stdio: 'ignore' });
      return true;
    } catch {
      // not mounted, busy, or the tool is missing: try the next way
    }
  }
  return false;
}
