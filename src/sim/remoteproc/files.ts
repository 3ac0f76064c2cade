/**
 * Where a machine's simulated kernel keeps its things (under DIR/.sim), and the wire format
 * between it and its clients: the FUSE bridges and SimMachine. One JSON object per line each way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrnoName } from '../../host/errno.js';
import type { RemoteprocModel } from './model.js';
import type { FsAttr } from './sysfs.js';

export const kernelPaths = {
  /** The kernel server's UNIX socket. */
  socket: (dir: string) => join(dir, '.sim', 'kernel.sock'),
  /** While the kernel server runs: its pid and its bridges' pids and mounts. */
  info: (dir: string) => join(dir, '.sim', 'kernel.json'),
  /** The model, written after every change. */
  model: (dir: string) => join(dir, '.sim', 'remoteproc.json'),
  /** The kernel server's and the bridges' own messages (not the machine's kernel log). */
  log: (dir: string) => join(dir, '.sim', 'kernel.log'),
  /** /dev/ttyRPMSG<k>: a UNIX socket the kernel server serves (a real tty would be a character device). */
  tty: (dir: string, k: number) => join(dir, 'dev', `ttyRPMSG${k}`),
};

/** sockaddr_un holds 108 bytes, the terminating NUL included. */
export const UNIX_PATH_MAX = 107;

export interface KernelInfo {
  pid: number;
  bridges: { pid: number; mount: string }[];
}

export function readKernelInfo(dir: string): KernelInfo | undefined {
  try {
    return JSON.parse(readFileSync(kernelPaths.info(dir), 'utf8')) as KernelInfo;
  } catch {
    return undefined;
  }
}

export function readModel(dir: string): RemoteprocModel | undefined {
  try {
    return JSON.parse(readFileSync(kernelPaths.model(dir), 'utf8')) as RemoteprocModel;
  } catch {
    return undefined;
  }
}

/** A file operation from a bridge (machine path), or a control request from SimMachine. */
export interface KernelRequest {
  op: 'hello' | 'getattr' | 'readdir' | 'readlink' | 'open' | 'read' | 'release' | 'write' | 'truncate' | 'create' | 'mkdir' | 'unlink' | 'rmdir' | 'rename' | 'control';
  path?: string;
  flags?: number;
  /** read, release: the handle open gave. */
  fh?: number;
  size?: number;
  offset?: number;
  /** write: the bytes, base64. */
  data?: string;
  /** The process that made the file operation (FUSE context). */
  pid?: number;
  uid?: number;
  /** control: what to do. */
  action?: 'crash' | 'hang' | 'shutdown' | 'ping';
  processor?: string;
  crashType?: string;
}

export interface KernelReply {
  errno?: ErrnoName;
  /** control: why it failed. */
  message?: string;
  attr?: FsAttr;
  entries?: string[];
  target?: string;
  /** open: the file handle its reads name. */
  fh?: number;
  /** read: the bytes, base64. */
  data?: string;
  written?: number;
}

const BUNDLE = 'crtos-sim-remoteproc.mjs';
const BRIDGE = 'fuse_bridge.py';

/** Walks up from this module (src/ in tests, dist/ when bundled) to the first directory that has one of `candidates`. */
function findUp(candidates: string[]): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const c of candidates) if (existsSync(join(dir, c))) return join(dir, c);
    dir = dirname(dir);
  }
  return undefined;
}

/** dist/crtos-sim-remoteproc.mjs: the kernel server and the rpmsg proxy stand-in. CRTOS_SIM_REMOTEPROC overrides. */
export function kernelBundlePath(): string {
  const found = process.env.CRTOS_SIM_REMOTEPROC ?? findUp([BUNDLE, join('dist', BUNDLE)]);
  if (!found) throw new Error(`cannot find ${BUNDLE}; run \`npm run build\` first (or set CRTOS_SIM_REMOTEPROC)`);
  return found;
}

/** The FUSE bridge script, shipped in the repository next to this module's source. CRTOS_SIM_FUSE_BRIDGE overrides. */
export function bridgeScriptPath(): string {
  const found = process.env.CRTOS_SIM_FUSE_BRIDGE ?? findUp([BRIDGE, join('src', 'sim', 'remoteproc', BRIDGE)]);
  if (!found) throw new Error(`cannot find ${BRIDGE} (src/sim/remoteproc/${BRIDGE} of the repository; or set CRTOS_SIM_FUSE_BRIDGE)`);
  return found;
}

/** The Python that has fusepy: Debian's (python3-fusepy installs into it), unless CRTOS_SIM_PYTHON names another. */
export function bridgePython(): string {
  return process.env.CRTOS_SIM_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}
