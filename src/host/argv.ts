/**
 * argv arrays for every tool the Linux host runs. Pure, so the exact command lines are tested
 * without running anything. Cells are always addressed by `--name`, never by id: ids are reused.
 */
import type { CellImage, SchedulingPolicy } from './host.js';

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

/** `chrt -f 80 taskset -c 3 PROGRAM ARGS…`: each wrapper execs the next, so the PID stays the program's. */
export function loaderArgv(
  argv: string[],
  scheduling: { policy: SchedulingPolicy; priority: number } | undefined,
  cpus: number[] | undefined,
  tools: { chrt: string; taskset: string },
): string[] {
  const out: string[] = [];
  if (scheduling) out.push(tools.chrt, CHRT_FLAG[scheduling.policy], String(scheduling.priority));
  if (cpus && cpus.length > 0) out.push(tools.taskset, '-c', [...cpus].sort((a, b) => a - b).join(','));
  out.push(...argv);
  return out;
}
