/**
 * A machine path resolved inside a root directory, as the machine itself would resolve it: a
 * symbolic link is followed with an absolute target taken from the root and `..` never above it
 * (Linux's openat2 RESOLVE_IN_ROOT; what chroot gives a program). Plain joining would let an
 * absolute link in an image tree (/sbin/init → /lib/systemd/systemd, a firmware file linked to
 * /usr/lib/firmware/...) lead to the host's own file, so `validate --root IMAGE` or `facts --root`
 * would read this machine instead of the image.
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

/** Links followed on one path before giving up, as the kernel's MAXSYMLINKS. */
const MAX_LINKS = 40;

/**
 * The host path of `machinePath` (absolute) under `root`. Components that do not exist are kept
 * as written (a file about to be created); after 40 links the rest is taken as written.
 */
export function resolveInRoot(root: string, machinePath: string): string {
  return insideRealpath(root, machinePath) ?? walkInRoot(root, machinePath);
}

/** Each root's own real path (a root under a linked directory, such as a /tmp that is a link). */
const realRoots = new Map<string, string>();

/**
 * The quick way, one realpath(3), for an existing path whose resolution by the host ends inside the
 * root; undefined otherwise, and then the walk. It differs from the walk only for a link that
 * climbs above the root and comes back into it through the root's own host name, which no image
 * tree can know.
 */
function insideRealpath(root: string, machinePath: string): string | undefined {
  try {
    let realRoot = realRoots.get(root);
    if (realRoot === undefined) realRoots.set(root, (realRoot = realpathSync.native(root)));
    const real = realpathSync.native(join(root, machinePath));
    if (real === realRoot) return root;
    return real.startsWith(`${realRoot}/`) ? join(root, real.slice(realRoot.length)) : undefined;
  } catch {
    return undefined;
  }
}

/** Component by component, each link read and followed inside the root. */
function walkInRoot(root: string, machinePath: string): string {
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
