/**
 * A machine path resolved inside a root directory, as the machine itself would resolve it: a
 * symbolic link is followed with an absolute target taken from the root and `..` never above it
 * (Linux's openat2 RESOLVE_IN_ROOT; what chroot gives a program). Plain joining would let an
 * absolute link in an image tree (/sbin/init → /lib/systemd/systemd, a firmware file linked to
 * /usr/lib/firmware/...) lead to the host's own file, so `validate --root IMAGE` or `facts --root`
 * would read this machine instead of the image.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Links followed on one path before giving up, as the kernel's MAXSYMLINKS. */
const MAX_LINKS = 40;

/**
 * The host path of `machinePath` (absolute) under `root`. Components that do not exist are kept
 * as written (a file about to be created); after 40 links the rest is taken as written.
 */
export function resolveInRoot(root: string, machinePath: string): string {
  const done: string[] = [];
  const todo = components(machinePath);
  let links = 0;
  // Once a component is missing (or unreadable), nothing below it can be a link: the rest is lexical.
  let lexical = false;
  while (todo.length) {
    const name = todo.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    done.push(name);
    if (lexical) continue;
    const host = join(root, ...done);
    let target: string;
    try {
      if (!lstatSync(host).isSymbolicLink()) continue;
      target = readlinkSync(host);
    } catch {
      lexical = true;
      continue;
    }
    if (++links > MAX_LINKS) {
      lexical = true;
      continue;
    }
    done.pop();
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...components(target));
  }
  return join(root, ...done);
}

const components = (path: string): string[] => path.split('/').filter((c) => c !== '' && c !== '.');
