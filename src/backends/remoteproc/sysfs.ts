/**
 * The remote processors as the kernel shows them under /sys/class/remoteproc/remoteprocN/, read
 * through the Host's raw reads: one listing, one batch of every processor's files. The N is
 * numbered anew at each boot (and when a driver is reloaded), so a processor is always found by
 * its `name`.
 */
import type { AttributeRead, Host } from '../../host/host.js';
import { HostError } from '../../host/host-error.js';
import { attributeText } from '../jailhouse/sysfs.js';

export const CLASS = '/sys/class/remoteproc';

/** The files of a processor's directory crtosd reads, in the order parseProcessor takes them. */
export const PROCESSOR_FILES = ['name', 'state', 'firmware', 'recovery', 'coredump'] as const;

/** One processor as sysfs shows it. */
export interface Processor {
  /** remoteprocN: where it is this boot. */
  dir: string;
  /** The N of remoteprocN. */
  index: number;
  name: string;
  /** offline, suspended, running, crashed, deleted, attached, detached, invalid. */
  state: string;
  /** The firmware name, `unknown` while attached. */
  firmware: string;
  /** enabled or disabled. */
  recovery: string;
  /** disabled, enabled or inline. */
  coredump: string;
}

export interface RemoteprocStatus {
  /** /sys/class/remoteproc exists: the framework is there (built in, or its module loaded). */
  present: boolean;
  /** Every processor, by index. */
  processors: Processor[];
}

/** The machine path of one of a processor's attributes. */
export const attributePath = (p: Pick<Processor, 'dir'>, attribute: string): string => `${CLASS}/${p.dir}/${attribute}`;

/** The processors' directories among the class's entries, by index. */
export function processorDirs(entries: readonly string[]): string[] {
  return entries.filter((e) => /^remoteproc\d+$/.test(e)).sort((a, b) => index(a) - index(b));
}

const index = (dir: string): number => Number(dir.slice('remoteproc'.length));

/**
 * Every processor; not present when the class directory is missing. A processor whose directory
 * vanished while it was read (its driver removed) is left out; another unreadable file rejects
 * with HOST_READ_FAILED.
 */
export async function readRemoteproc(host: Host): Promise<RemoteprocStatus> {
  let entries: string[];
  try {
    entries = await host.readDir(CLASS);
  } catch (e) {
    if (e instanceof HostError && e.errno === 'ENOENT') return { present: false, processors: [] };
    throw e;
  }
  const dirs = processorDirs(entries);
  const reads = await host.readAttributes(dirs.flatMap((dir) => PROCESSOR_FILES.map((f) => attributePath({ dir }, f))));
  const processors: Processor[] = [];
  dirs.forEach((dir, i) => {
    const files = reads.slice(i * PROCESSOR_FILES.length, (i + 1) * PROCESSOR_FILES.length);
    const failed = files.find((r) => !('text' in r)) as Extract<AttributeRead, { error: string }> | undefined;
    if (failed?.errno === 'ENOENT') return;
    if (failed) throw new HostError({ code: 'HOST_READ_FAILED', op: 'remoteproc', errno: failed.errno, message: `remoteproc: cannot read ${CLASS}/${dir}: ${failed.error}` });
    const [name, state, firmware, recovery, coredump] = files.map((r) => attributeText((r as { text: string }).text));
    processors.push({ dir, index: index(dir), name: name!, state: state!, firmware: firmware!, recovery: recovery!, coredump: coredump! });
  });
  return { present: true, processors };
}
