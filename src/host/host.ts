/**
 * The Host boundary: every side effect crtosd has on a machine goes through this interface. The
 * Linux implementation (linux-host.ts) resolves every path under a root directory and runs the
 * real tools found on PATH with argv arrays; pointed at a simulated machine directory with the
 * simulator's stand-in tools first on PATH, the same code drives the simulator. Nothing above this
 * layer touches the file system, spawns a process or opens a socket on the machine's behalf.
 *
 * Failures reject with a HostError (host-error.ts): the operation, the errno parsed from the
 * tool's message, stderr and exit code.
 */

/** One Jailhouse cell as sysfs shows it under /sys/devices/jailhouse/cells/<id>/. */
export interface CellInfo {
  id: number;
  name: string;
  /** Exactly the sysfs string: running, running/locked, shut down, failed, Comm ABI mismatch, invalid. */
  state: string;
  cpusAssigned: number[];
  cpusFailed: number[];
}

export interface JailhouseStatus {
  /** /sys/devices/jailhouse exists (the module is loaded). */
  loaded: boolean;
  /** `enabled` reads 1. */
  enabled: boolean;
  /** Every cell, root cell (id 0) included, sorted by id. */
  cells: CellInfo[];
}

export interface ModuleInfo {
  /** Name as /proc/modules prints it (dashes become underscores there). */
  name: string;
  size: number;
  refcount: number;
  usedBy: string[];
  /** Live, Loading, Unloading. */
  state: string;
  /** /sys/module/<name>/parameters/*, where readable. */
  parameters: Record<string, string>;
}

export interface InterfaceInfo {
  name: string;
  up: boolean;
  /** CIDR strings, `172.16.0.1/24`. */
  addresses: string[];
}

/** A process identified so that a reused PID is never mistaken for ours. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks since boot. */
  startTime: number;
}

export interface ProcessInfo extends ProcessIdentity {
  /** Field 3 of /proc/PID/stat (R, S, D, Z, T, …). */
  state: string;
  argv: string[];
}

export interface ModuleSpec {
  /** modprobe by name … */
  name?: string;
  /** … or insmod a file (absolute, resolved under the host root). */
  path?: string;
  parameters?: Record<string, string>;
}

export interface InstallFileOptions {
  /** Permission bits of the installed file; default 0o644. */
  mode?: number;
}

export interface CellImage {
  /** An image file (absolute, resolved under the host root) … */
  file?: string;
  /** … or a string loaded with `-s` (its NUL terminator included, as upstream does). */
  string?: string;
  /** Load address in the cell's guest-physical space; default 0. */
  address?: bigint;
}

export type SchedulingPolicy = 'other' | 'fifo' | 'rr' | 'batch' | 'idle';

export interface SpawnSpec {
  argv: string[];
  /** Environment of the child; the host adds nothing else to it. */
  env: Record<string, string>;
  /** Working directory, a machine path (resolved under the host root, like argv[0] when absolute). */
  cwd?: string;
  scheduling?: { policy: SchedulingPolicy; priority: number };
  /** CPU affinity (taskset), Linux CPU numbers. */
  cpus?: number[];
  /** Append stdout and stderr to this file (absolute, real path; not resolved under root). */
  logFile?: string;
}

export interface ExitStatus {
  /** Exit code when the process exited, otherwise null. */
  code: number | null;
  /** Signal name when the process was killed by a signal, otherwise null. */
  signal: string | null;
}

export interface Host {
  /** The directory every machine path is resolved under (`/` on a real machine). */
  readonly root: string;
  /** Machine path (`/etc/jailhouse/x.cell`) to the path to open (`<root>/etc/jailhouse/x.cell`). */
  resolve(machinePath: string): string;

  // ---- observation ---------------------------------------------------------------------------
  jailhouse(): Promise<JailhouseStatus>;
  modules(): Promise<ModuleInfo[]>;
  onlineCpus(): Promise<number[]>;
  /** Whether a machine path (a device node, an image) exists. */
  exists(machinePath: string): Promise<boolean>;
  readFile(machinePath: string): Promise<Buffer>;
  interfaces(): Promise<InterfaceInfo[]>;
  /**
   * undefined when no process has that PID, or it has but started at another time. Processes are
   * the real machine's: /proc is read at its real path, also when the root is a simulated machine.
   */
  process(id: ProcessIdentity): Promise<ProcessInfo | undefined>;
  /**
   * A live (not zombie) real-machine process whose environment has exactly `name=value` (a loader's
   * INVOCATION_ID), undefined when none has. Scans all of /proc: call it only when a PID is unknown.
   */
  findProcessByEnv(name: string, value: string): Promise<ProcessInfo | undefined>;

  // ---- actions -------------------------------------------------------------------------------
  /**
   * Copy a machine file to another machine path (an RTMux image to /vmm/rtos.bin), or write the
   * bytes given as `source` there (an encoded inline cell configuration). The copy is
   * written to a temporary file in the target's directory (created when missing) and renamed over
   * the target, so a reader sees the old file or the whole new one, never a part. Rejects with a
   * HostError (HOST_WRITE_FAILED) carrying the errno; nothing is left behind on failure.
   */
  installFile(source: string | Uint8Array, target: string, opts?: InstallFileOptions): Promise<void>;
  loadModule(spec: ModuleSpec): Promise<void>;
  unloadModule(name: string): Promise<void>;
  enableJailhouse(systemConfig: string): Promise<void>;
  disableJailhouse(): Promise<void>;
  /**
   * `jailhouse cell create`, then confirm a cell named `expectedName` appeared in sysfs (upstream
   * returns success without creating the cell on an architecture mismatch).
   */
  createCell(cellConfig: string, expectedName: string): Promise<CellInfo>;
  loadCell(name: string, images: CellImage[]): Promise<void>;
  startCell(name: string): Promise<void>;
  shutdownCell(name: string): Promise<void>;
  destroyCell(name: string): Promise<void>;
  addAddress(ifname: string, cidr: string): Promise<void>;
  removeAddress(ifname: string, cidr: string): Promise<void>;
  setLinkUp(ifname: string): Promise<void>;
  /** Start a process detached in its own session, so it outlives a daemon restart. */
  spawn(spec: SpawnSpec): Promise<ProcessIdentity>;
  /**
   * Resolves when the process ends (also for processes re-found after a restart: then by polling,
   * and the status is unknown to a non-parent: { code: null, signal: null }).
   */
  waitExit(id: ProcessIdentity): Promise<ExitStatus>;
  /** Send a signal; resolves false when the process is already gone. */
  kill(id: ProcessIdentity, signal: NodeJS.Signals): Promise<boolean>;
  /** One TCP connect to host:port (a readiness probe); true when it was accepted within timeoutMs. */
  probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean>;
}
