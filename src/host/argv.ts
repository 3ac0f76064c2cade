/**
 * argv arrays for every tool the Linux host runs. Pure, so the exact command lines are tested
 * without running anything. Cells are always addressed by `--name`, never by id: ids are reused.
 */
import type { CellImage, LimitName, LimitValue, SchedulingPolicy } from './host.js';

export const jailhouseArgv = {
  enable: (systemConfigPath: string) => ['jailhouse', 'enable', systemConfigPath],
  disable: () => ['jailhouse', 'disable'],
  create: (cellConfigPath: string) => ['jailhouse', 'cell', 'create', cellConfigPath],
  /** `images` carry resolved file paths. */
  load: (name: string, images: CellImage[]) => {
    const argv = ['jailhouse', 'cell', 'load', '--name', name];
    for (const image of images) {
      if (image.file !== undefined) argv.push(image.file);
      else argv.push('--string', image.string ?? '');
      argv.push('--address', `0x${(image.address ?? 0n).toString(16)}`);
    }
    return argv;
  },
  start: (name: string) => ['jailhouse', 'cell', 'start', '--name', name],
  shutdown: (name: string) => ['jailhouse', 'cell', 'shutdown', '--name', name],
  destroy: (name: string) => ['jailhouse', 'cell', 'destroy', '--name', name],
};

function moduleParameters(parameters: Record<string, string> | undefined): string[] {
  return Object.entries(parameters ?? {}).map(([k, v]) => `${k}=${v}`);
}

export const moduleArgv = {
  modprobe: (name: string, parameters?: Record<string, string>) => ['modprobe', name, ...moduleParameters(parameters)],
  insmod: (path: string, parameters?: Record<string, string>) => ['insmod', path, ...moduleParameters(parameters)],
  rmmod: (name: string) => ['rmmod', name],
};

export const ipArgv = {
  show: () => ['ip', '-j', 'addr', 'show'],
  addAddress: (ifname: string, cidr: string) => ['ip', 'addr', 'add', cidr, 'dev', ifname],
  removeAddress: (ifname: string, cidr: string) => ['ip', 'addr', 'del', cidr, 'dev', ifname],
  linkUp: (ifname: string) => ['ip', 'link', 'set', 'dev', ifname, 'up'],
};

const CHRT_FLAG: Record<SchedulingPolicy, string> = { other: '-o', fifo: '-f', rr: '-r', batch: '-b', idle: '-i' };

/** What wraps a loader's program, each part only when asked for. */
export interface LoaderWrapping {
  scheduling?: { policy: SchedulingPolicy; priority: number } | undefined;
  cpus?: number[] | undefined;
  /** Resource limits, each set as soft and hard limit; `infinity` is prlimit's `unlimited`. */
  limits?: Partial<Record<LimitName, LimitValue>> | undefined;
  /** setpriv: the user (omitted: stay root) and group; supplementary groups from the user's entry, or none. */
  credentials?: { user?: string | undefined; group: string; initGroups: boolean } | undefined;
}

export interface LoaderTools {
  chrt: string;
  taskset: string;
  prlimit: string;
  setpriv: string;
}

/** prlimit's option per limit, in a fixed order so the command line is stable. */
const PRLIMIT_OPTION: Record<LimitName, string> = { memlock: '--memlock', rtprio: '--rtprio', nofile: '--nofile', core: '--core' };

/**
 * `prlimit --memlock=X:X -- chrt -f 80 taskset -c 3 setpriv --reuid=U --regid=G --init-groups --
 * PROGRAM ARGS…`: each wrapper execs the next, so the PID stays the program's. prlimit comes
 * first and setpriv last: raising a hard limit and choosing a real-time policy need the privileges
 * that setpriv gives up. A wrapper that fails exits 1 with its message in the loader's output.
 */
export function loaderArgv(argv: string[], wrap: LoaderWrapping, tools: LoaderTools): string[] {
  const out: string[] = [];
  const limits = Object.entries(PRLIMIT_OPTION).flatMap(([name, option]) => {
    const value = wrap.limits?.[name as LimitName];
    if (value === undefined) return [];
    const v = value === 'infinity' ? 'unlimited' : value.toString();
    return [`${option}=${v}:${v}`];
  });
  if (limits.length > 0) out.push(tools.prlimit, ...limits, '--');
  if (wrap.scheduling) out.push(tools.chrt, CHRT_FLAG[wrap.scheduling.policy], String(wrap.scheduling.priority));
  if (wrap.cpus && wrap.cpus.length > 0) out.push(tools.taskset, '-c', [...wrap.cpus].sort((a, b) => a - b).join(','));
  const c = wrap.credentials;
  if (c) {
    out.push(tools.setpriv);
    if (c.user !== undefined) out.push(`--reuid=${c.user}`);
    out.push(`--regid=${c.group}`, c.initGroups ? '--init-groups' : '--clear-groups', '--');
  }
  out.push(...argv);
  return out;
}
