/**
 * The remoteproc model without a machine: a clock the test moves, firmware files in memory, faults
 * in a list, and the sysfs files by machine path (read and written as the FUSE bridge would).
 */
import type { ErrnoName } from '../../../src/host/errno.js';
import type { SimProcessorFault } from '../../../src/sim/faults.js';
import type { ProcessorDescription } from '../../../src/sim/remoteproc/description.js';
import { findFirmware, firmwareImage, firmwareSearchPath, isRefusal, parseFirmware, type FirmwareSpec } from '../../../src/sim/remoteproc/firmware.js';
import { KernelCall, advance, initialModel, syncDrivers, type RemoteprocModel } from '../../../src/sim/remoteproc/model.js';
import { openError, readFile, sysfsTree, writeFile } from '../../../src/sim/remoteproc/sysfs.js';

export const RELEASE = '6.6.0-test';
export const FIRMWARE: FirmwareSpec = { name: 'test-fw', version: '1', bootMs: 100, heartbeatMs: 100, services: ['rpmsg-tty'] };
export const RPROC = '/sys/class/remoteproc/remoteproc0';

export interface Harness {
  model: RemoteprocModel;
  files: Map<string, Uint8Array>;
  faults: SimProcessorFault[];
  now(): number;
  /** Moves the clock and lets everything due happen. */
  after(ms: number): KernelCall;
  /** The modules loaded now (syncDrivers). */
  load(...modules: string[]): KernelCall;
  /** A write to a machine path: its errno (undefined = the write returned its byte count). */
  write(path: string, value: string): ErrnoName | undefined;
  /** Like write, returning the call too (its kernel log lines and events). */
  writeCall(path: string, value: string): { errno: ErrnoName | undefined; k: KernelCall };
  /** A file's text, or the errno reading it gives. */
  read(path: string): string | ErrnoName;
  exists(path: string): boolean;
  /** The entries of a directory. */
  list(path: string): string[];
  call<T>(fn: (k: KernelCall) => T): T;
  install(name: string, spec?: Partial<FirmwareSpec>, dir?: string): Uint8Array;
}

export function harness(processors: ProcessorDescription[], opts: { classPath?: string; files?: Record<string, Uint8Array> } = {}): Harness {
  let now = 1_000_000;
  const files = new Map<string, Uint8Array>(Object.entries(opts.files ?? {}));
  const faults: SimProcessorFault[] = [];
  const searchPath = firmwareSearchPath(RELEASE, opts.classPath);
  const readImage = (path: string) => {
    const bytes = files.get(path);
    const parsed = bytes ? parseFirmware(bytes, path) : undefined;
    return parsed && !isRefusal(parsed) ? parsed : undefined;
  };
  const model = initialModel(processors, now, readImage);
  const newCall = () =>
    new KernelCall(model, {
      now,
      processors,
      requestFirmware: (name) => {
        const path = findFirmware(name, searchPath, (p) => files.has(p));
        return path === undefined ? undefined : parseFirmware(files.get(path) as Uint8Array, path);
      },
      faults: [...faults],
      takeFault: (matches) => {
        const i = faults.findIndex(matches);
        if (i < 0) return undefined;
        const f = faults[i] as SimProcessorFault;
        if (f.times !== undefined) {
          if (f.times <= 1) faults.splice(i, 1);
          else faults[i] = { ...f, times: f.times - 1 };
        }
        return f;
      },
    });
  const h: Harness = {
    model,
    files,
    faults,
    now: () => now,
    after(ms) {
      now += ms;
      const k = newCall();
      advance(k);
      return k;
    },
    load(...modules) {
      const k = newCall();
      syncDrivers(k, new Set(modules), modules.includes('rpmsg_tty'));
      advance(k);
      return k;
    },
    writeCall(path, value) {
      const k = newCall();
      advance(k);
      const errno = writeFile(k, sysfsTree(model, now).get(path), value);
      return { errno, k };
    },
    write: (path, value) => h.writeCall(path, value).errno,
    read(path) {
      const node = sysfsTree(model, now).get(path);
      const opened = openError(node, 0);
      if (opened) return opened;
      const data = readFile(node, 65536, 0);
      return typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    },
    exists: (path) => sysfsTree(model, now).has(path),
    list(path) {
      const prefix = `${path}/`;
      return [...new Set([...sysfsTree(model, now).keys()].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0] as string))].sort();
    },
    call(fn) {
      const k = newCall();
      return fn(k);
    },
    install(name, spec = {}, dir = '/lib/firmware') {
      const bytes = firmwareImage({ ...FIRMWARE, ...spec });
      files.set(`${dir}/${name}`, bytes);
      return bytes;
    },
  };
  return h;
}

export const CM4: ProcessorDescription = { name: 'imx-rproc', driver: 'imx_rproc' };
