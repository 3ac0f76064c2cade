/**
 * The files the FUSE mounts show, from the model (pure): the remoteproc class, devcoredump, the
 * rpmsg bus and the remoteproc debugfs, with the kernel's modes, strings and newlines, and what a
 * write to each does. A file operation coming from the bridge is answered here; the kernel server
 * only adds the side effects (locking, persisting, logging).
 */
import type { ErrnoName } from '../../host/errno.js';
import { parseKernelUlong } from '../module-parameters.js';
import { coredumpBytes, hasTrace, traceText } from './content.js';
import {
  CRASH_TYPES,
  RECOVERY_WORDS,
  applyRecoveryWord,
  channelDevice,
  coreOf,
  deleteDevcoredump,
  reportCrash,
  setFirmware,
  takesLock,
  writeCoredump,
  writeRecovery,
  writeState,
  type KernelCall,
  type RemoteprocModel,
  type Rproc,
} from './model.js';

/** The machine paths mounted by the FUSE bridges, one mount each. */
export const SYSFS_MOUNTS = ['/sys/class/remoteproc', '/sys/class/devcoredump', '/sys/bus/rpmsg', '/sys/kernel/debug/remoteproc'] as const;

export type SysfsNode =
  | { kind: 'dir' }
  | { kind: 'link'; target: string }
  | {
      kind: 'file';
      mode: number;
      /** What stat says: 4096 for sysfs attributes (a page), 0 for debugfs and binary files. */
      size: number;
      /** The content; absent: reading it is EINVAL (a write-only debugfs file). */
      read?: () => string | Uint8Array;
      /** Absent: opening it for writing is EACCES (kernfs: no store). */
      write?: (k: KernelCall, value: string) => ErrnoName | undefined;
      /** The processor the attribute belongs to, and the attribute (for rproc->lock). */
      owner?: { processor: Rproc; attribute: string };
    };

type FileNode = Extract<SysfsNode, { kind: 'file' }>;

const PAGE = 4096;
const attr = (read: () => string, write?: FileNode['write'], owner?: FileNode['owner']): FileNode => ({ kind: 'file', mode: write ? 0o644 : 0o444, size: PAGE, read, ...(write ? { write } : {}), ...(owner ? { owner } : {}) });
const hex = (n: number) => `0x${(n >>> 0).toString(16)}\n`;

/** Every node, by machine path; directories are implied by their entries (and the mounts always exist). */
export function sysfsTree(model: RemoteprocModel, now: number): Map<string, SysfsNode> {
  const files = new Map<string, SysfsNode>();
  for (const r of model.processors) addProcessor(files, model, r, now);
  files.set('/sys/class/devcoredump/disabled', attr(() => `${model.devcdDisabled ? 1 : 0}\n`, (k, value) => disableDevcoredump(k, value)));
  for (const d of model.devcoredumps) {
    const dir = `/sys/class/devcoredump/devcd${d.id}`;
    files.set(`${dir}/data`, { kind: 'file', mode: 0o600, size: 0, read: () => coredumpBytes(d), write: (k) => void deleteDevcoredump(k, d.id) });
    files.set(`${dir}/failing_device`, { kind: 'link', target: `../../remoteproc/remoteproc${d.rproc}` });
  }
  files.set('/sys/bus/rpmsg/devices', { kind: 'dir' });
  for (const r of model.processors) addRpmsgDevices(files, r);
  const tree = new Map<string, SysfsNode>(SYSFS_MOUNTS.map((m) => [m, { kind: 'dir' }]));
  for (const [path, node] of files) {
    tree.set(path, node);
    for (let parent = path.slice(0, path.lastIndexOf('/')); parent.length > 1 && !tree.has(parent); parent = parent.slice(0, parent.lastIndexOf('/'))) {
      tree.set(parent, { kind: 'dir' });
    }
  }
  return tree;
}

function addProcessor(files: Map<string, SysfsNode>, model: RemoteprocModel, r: Rproc, now: number): void {
  const dir = `/sys/class/remoteproc/remoteproc${r.index}`;
  const own = (attribute: string) => ({ processor: r, attribute });
  files.set(`${dir}/name`, attr(() => `${r.name}\n`));
  // Nobody knows what a core the bootloader started runs.
  files.set(`${dir}/firmware`, attr(() => `${r.state === 'attached' ? 'unknown' : r.firmware}\n`, (k, v) => setFirmware(k, r, v), own('firmware')));
  files.set(`${dir}/state`, attr(() => `${r.state}\n`, (k, v) => writeState(k, r, v), own('state')));
  files.set(`${dir}/recovery`, attr(() => (r.recoveryDisabled ? 'disabled\n' : 'enabled\n'), (k, v) => writeRecovery(k, r, v), own('recovery')));
  files.set(`${dir}/coredump`, attr(() => `${r.coredump}\n`, (k, v) => writeCoredump(k, r, v), own('coredump')));
  const debug = `/sys/kernel/debug/remoteproc/remoteproc${r.index}`;
  files.set(`${debug}/name`, { kind: 'file', mode: 0o400, size: 0, read: () => `${r.name.slice(0, 28)}\n` });
  files.set(`${debug}/recovery`, { kind: 'file', mode: 0o600, size: 0, read: () => (r.recoveryDisabled ? 'disabled\n' : 'enabled\n'), write: (k, v) => debugfsRecovery(k, r, v), owner: own('recovery') });
  files.set(`${debug}/crash`, { kind: 'file', mode: 0o200, size: 0, write: (k, v) => debugfsCrash(k, r, v) });
  const core = coreOf(model, r.name);
  if ((r.state === 'running' || r.state === 'attached' || r.state === 'crashed') && hasTrace(core)) {
    files.set(`${debug}/trace0`, { kind: 'file', mode: 0o400, size: 0, read: () => traceText(core, now) });
  }
}

function addRpmsgDevices(files: Map<string, SysfsNode>, r: Rproc): void {
  const vdev = r.vdev;
  if (!vdev) return;
  // The name-service endpoint (address 53) and, since v5.18, the control device come with the virtio device.
  const devices: [string, string, number, number][] = [
    [`virtio${vdev.index}.rpmsg_ns.53.53`, 'rpmsg_ns', 53, 53],
    [`virtio${vdev.index}.rpmsg_ctrl.0.0`, 'rpmsg_ctrl', 0, 0],
    ...r.channels.map((c): [string, string, number, number] => [channelDevice(vdev, c), c.service, -1, c.dst]),
  ];
  for (const [device, name, src, dst] of devices) {
    const dir = `/sys/bus/rpmsg/devices/${device}`;
    files.set(`${dir}/name`, attr(() => `${name}\n`));
    files.set(`${dir}/src`, attr(() => hex(src)));
    files.set(`${dir}/dst`, attr(() => hex(dst)));
    files.set(`${dir}/announce`, attr(() => 'false\n'));
    files.set(`${dir}/modalias`, attr(() => `rpmsg:${name}\n`));
  }
}

/** /sys/class/devcoredump/disabled: only `1` is accepted (simple_strtol), and it cannot be undone. */
function disableDevcoredump(k: KernelCall, value: string): ErrnoName | undefined {
  if (Number(/^\s*[+-]?\d+/.exec(value)?.[0] ?? NaN) !== 1) return 'EINVAL';
  k.model.devcdDisabled = true;
  k.changed = true;
  return undefined;
}

/**
 * debugfs `recovery`: the words compared with strncmp over the bytes written (a newline becomes the
 * terminator), so without a newline a prefix is enough; at most 10 bytes.
 */
function debugfsRecovery(k: KernelCall, r: Rproc, value: string): ErrnoName | undefined {
  if (value.length < 1 || value.length > 10) return 'EINVAL';
  const word = RECOVERY_WORDS.find((w) => (value.endsWith('\n') ? value.slice(0, -1) === w : w.startsWith(value)));
  if (!word) return 'EINVAL';
  applyRecoveryWord(k, r, word);
  return undefined;
}

/** debugfs `crash`: an unsigned number (kstrtouint, base 0), the crash type to report. */
function debugfsCrash(k: KernelCall, r: Rproc, value: string): ErrnoName | undefined {
  const type = parseKernelUlong(value);
  if (type === undefined || type > 0xffffffffn) return 'EINVAL';
  reportCrash(k, r, CRASH_TYPES[Number(type)] ?? 'unknown', 'debugfs');
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// File operations, as the FUSE bridge forwards them.

export interface FsAttr {
  type: 'dir' | 'file' | 'link';
  mode: number;
  size: number;
}

/** Entries of a directory (names only), or undefined when `path` is not a directory. */
export function listDirectory(tree: Map<string, SysfsNode>, path: string): string[] | undefined {
  if (tree.get(path)?.kind !== 'dir') return undefined;
  const prefix = `${path}/`;
  const names = new Set<string>();
  for (const p of tree.keys()) if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) names.add(p.slice(prefix.length));
  return [...names].sort(naturalOrder);
}

/** remoteproc2 before remoteproc10, as the kernel's readdir order would be for the user's eye. */
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function attrOf(node: SysfsNode): FsAttr {
  if (node.kind === 'dir') return { type: 'dir', mode: 0o755, size: 0 };
  if (node.kind === 'link') return { type: 'link', mode: 0o777, size: node.target.length };
  return { type: 'file', mode: node.mode, size: node.size };
}

const O_ACCMODE = 3;
const O_RDONLY = 0;

/** open(2) flags that ask for writing. */
export function opensForWriting(flags: number): boolean {
  return (flags & O_ACCMODE) !== O_RDONLY;
}

/** open(2): kernfs refuses to open an attribute for an access it has no method for (EACCES). */
export function openError(node: SysfsNode | undefined, flags: number): ErrnoName | undefined {
  if (!node) return 'ENOENT';
  const writing = opensForWriting(flags);
  if (node.kind === 'dir') return writing ? 'EISDIR' : undefined;
  if (node.kind === 'link') return undefined;
  return writing && !node.write ? 'EACCES' : undefined;
}

/** What reading a file gives: the attribute's text as the kernel formats it, or EINVAL for a file without a read method. */
export function fileContent(node: SysfsNode | undefined): Uint8Array | ErrnoName {
  if (!node) return 'ENOENT';
  if (node.kind === 'dir') return 'EISDIR';
  if (node.kind === 'link' || !node.read) return 'EINVAL';
  const content = node.read();
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** read(2) at an offset of the file's content. */
export function readFile(node: SysfsNode | undefined, size: number, offset: number): Uint8Array | ErrnoName {
  const content = fileContent(node);
  return typeof content === 'string' ? content : sliceAt(content, size, offset);
}

export function sliceAt(bytes: Uint8Array, size: number, offset: number): Uint8Array {
  return bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + size, bytes.length));
}

/** Whether a write to this file has to wait for rproc->lock (a recovery holds it). */
export function writeWaitsForLock(node: SysfsNode | undefined, value: string): Rproc | undefined {
  if (node?.kind !== 'file' || !node.owner) return undefined;
  const { processor, attribute } = node.owner;
  return processor.recovery !== undefined && takesLock(attribute, value) ? processor : undefined;
}

/** kernfs hands a store at most a page. */
export const MAX_STORE = PAGE;

/** write(2): the store method's answer; sysfs_streq and the rest are the attribute's business. */
export function writeFile(k: KernelCall, node: SysfsNode | undefined, value: string): ErrnoName | undefined {
  if (!node) return 'ENOENT';
  if (node.kind === 'dir') return 'EISDIR';
  if (node.kind !== 'file' || !node.write) return 'EACCES';
  return node.write(k, value);
}
