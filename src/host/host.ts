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
import type { ErrnoName } from './errno.js';

/**
 * One small kernel file read by Host.readAttributes: its text, or why it could not be read (the
 * errno, ENOENT when it is missing, and the system's message), for the caller to decide what a
 * missing file means (a cell destroyed meanwhile, a module not loaded).
 */
export type AttributeRead = { text: string } | { errno: ErrnoName | undefined; error: string };

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

/** The resource limits a loader can be given (setrlimit's RLIMIT_MEMLOCK, _RTPRIO, _NOFILE, _CORE). */
export type LimitName = 'memlock' | 'rtprio' | 'nofile' | 'core';
/** Bytes (memlock, core), a priority (rtprio) or a count (nofile); `infinity`: no limit. */
export type LimitValue = bigint | 'infinity';

export interface SpawnSpec {
  argv: string[];
  /** Environment of the child; the host adds nothing else to it. */
  env: Record<string, string>;
  /**
   * Working directory, a machine path resolved under the host root like argv[0]; default `/`
   * (the root itself: `/` on a real machine, the machine directory of a simulated one).
   */
  cwd?: string;
  scheduling?: { policy: SchedulingPolicy; priority: number };
  /** CPU affinity (taskset), Linux CPU numbers. */
  cpus?: number[];
  /**
   * Run as this user and group (names or numeric ids of the real machine: the process is real).
   * A user's group defaults to its primary group and its supplementary groups are its own; a
   * numeric user without a passwd entry needs `group`, and gets no supplementary groups.
   */
  user?: string;
  group?: string;
  /** Resource limits, each as soft and hard limit (prlimit); nofile `infinity` is fs.nr_open. */
  limits?: Partial<Record<LimitName, LimitValue>>;
  /**
   * Stdout and stderr go to this file, opened for appending (absolute, real path; not resolved
   * under root). Follow and rotate it with followOutput.
   */
  logFile?: string;
}

/** How a loader's output file is kept: rotated at maxBytes to FILE.1 … FILE.keep. */
export interface OutputOptions {
  maxBytes: number;
  keep: number;
}

export interface OutputFollower {
  /** Reads what was written so far now, rather than after the next change notification. */
  flush(): void;
  close(): void;
}

/** A tool process the host started for an operation, as crtosd records it while it runs. */
export interface ToolRun {
  /** The Host operation (`createCell`, `interfaces`, `spawn`). */
  op: string;
  pid: number;
  /** Field 22 of /proc/PID/stat, so a reused PID is never taken for it. */
  startTime: number;
  argv: string[];
  /**
   * spawn only: the wrappers (absolute paths of chrt, prlimit, taskset, setpriv) the process execs
   * through before it runs the program. The run is over once its command line is none of theirs
   * (execReached in processes.ts): from then on the process is the loader, not a tool.
   */
  wrappers?: string[];
  /** The token it was given in TOOL_RUN_ENV, if any. */
  token?: string;
}

/** Told of every tool process an operation starts: once it runs, and once it is gone. */
export interface ToolRunObserver {
  /**
   * Just before the tool is spawned: a token to hand it in its environment (TOOL_RUN_ENV). The
   * observer records it first, so a daemon killed between the spawn and `started` still leaves a
   * record by which a restarted daemon finds the tool (as loaders are found by INVOCATION_ID).
   */
  spawning?(argv: string[], wrappers?: string[]): string | undefined;
  started(run: ToolRun): void;
  ended(run: ToolRun): void;
}

/** The environment variable a tool's run token is passed in (ToolRunObserver.spawning). */
export const TOOL_RUN_ENV = 'CRTOS_TOOL_RUN';

/** How one operation that runs a tool is bounded and watched. */
export interface ToolCall {
  /**
   * Gives the operation up: its tool's process group gets SIGTERM, then SIGKILL after a short
   * grace, and the operation rejects (HOST_TOOL_TIMEOUT) once the tool has exited. A tool not yet
   * started is not started. The host's own limit (toolTimeoutMs) still applies as a backstop.
   */
  signal?: AbortSignal | undefined;
  runs?: ToolRunObserver | undefined;
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
  modules(): Promise<ModuleInfo[]>;
  onlineCpus(): Promise<number[]>;
  /** Whether a machine path (a device node, an image) exists. */
  exists(machinePath: string): Promise<boolean>;
  readFile(machinePath: string): Promise<Buffer>;
  /**
   * A machine file's bytes in pieces of at most `chunkBytes`, in order, each read off the event
   * loop (a multi-MB image hashed a piece per turn, never held or read whole); the iteration
   * rejects with HOST_READ_FAILED and the errno.
   */
  readChunks(machinePath: string, chunkBytes: number): AsyncIterable<Buffer>;
  /**
   * Small files the kernel generates (sysfs attributes, procfs), each read whole as text, in the
   * order given. Never rejects for a file that cannot be read: its entry says why.
   */
  readAttributes(machinePaths: readonly string[]): Promise<AttributeRead[]>;
  /**
   * `length` bytes at `offset` of a machine file, read in place (a word of shared memory through
   * /dev/mem, which cannot be read whole); rejects with HOST_READ_FAILED and the errno.
   */
  readRange(machinePath: string, offset: bigint, length: number): Promise<Buffer>;
  /** The names in a machine directory (a sysfs one), sorted; rejects with HOST_READ_FAILED and the errno. */
  readDir(machinePath: string): Promise<string[]>;
  /** `ip -j addr show`: a tool run, so it takes a ToolCall like the actions. */
  interfaces(call?: ToolCall): Promise<InterfaceInfo[]>;
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
  /**
   * Writes `value` to a kernel attribute (a sysfs file such as a remote processor's `state`): one
   * open of the existing file and one write, never a temporary file renamed over it (sysfs refuses
   * that). Rejects with a HostError (HOST_WRITE_FAILED) carrying the errno the kernel returned, so
   * a backend can tell EBUSY from EINVAL.
   */
  writeAttribute(machinePath: string, value: string): Promise<void>;
  // Every operation that runs a tool takes a ToolCall: a signal that kills the tool with its
  // process group when the caller's deadline passes, and an observer of the tool's process.
  loadModule(spec: ModuleSpec, call?: ToolCall): Promise<void>;
  unloadModule(name: string, call?: ToolCall): Promise<void>;
  enableJailhouse(systemConfig: string, call?: ToolCall): Promise<void>;
  disableJailhouse(call?: ToolCall): Promise<void>;
  /**
   * `jailhouse cell create`. Its success does not mean a cell exists (upstream returns success
   * without creating one on an architecture mismatch): the backend confirms it in sysfs.
   */
  createCell(cellConfig: string, call?: ToolCall): Promise<void>;
  loadCell(name: string, images: CellImage[], call?: ToolCall): Promise<void>;
  startCell(name: string, call?: ToolCall): Promise<void>;
  shutdownCell(name: string, call?: ToolCall): Promise<void>;
  destroyCell(name: string, call?: ToolCall): Promise<void>;
  addAddress(ifname: string, cidr: string, call?: ToolCall): Promise<void>;
  removeAddress(ifname: string, cidr: string, call?: ToolCall): Promise<void>;
  setLinkUp(ifname: string, call?: ToolCall): Promise<void>;
  /**
   * Start a process detached in its own session and process group (both numbered by its PID), so
   * it outlives a daemon restart and its children can be signalled with it (killGroup).
   *
   * With wrappers (chrt, prlimit, taskset, setpriv), resolves only once the exec chain reached the
   * program (its command line is no wrapper's any more) or the process ended; a wrapper that hangs
   * until `call.signal` fires (or the host's tool limit passes) is killed with its process group
   * and the spawn rejects with HOST_TOOL_TIMEOUT. The wait is reported to `call.runs` as a tool run.
   */
  spawn(spec: SpawnSpec, call?: ToolCall): Promise<ProcessIdentity>;
  /**
   * Resolves when the process ends (also for processes re-found after a restart: then by polling,
   * and the status is unknown to a non-parent: { code: null, signal: null }).
   */
  waitExit(id: ProcessIdentity): Promise<ExitStatus>;
  /** Send a signal; resolves false when the process is already gone. */
  kill(id: ProcessIdentity, signal: NodeJS.Signals): Promise<boolean>;
  /**
   * Send a signal to every live process of the process group and session the spawned process
   * leads (its children and theirs, also once it has exited itself); resolves with how many
   * there were. A process that left both with setsid(2) is not found. When the PID has been taken
   * by another process, the group of that number is not ours and nothing is signalled.
   */
  killGroup(id: ProcessIdentity, signal: NodeJS.Signals): Promise<number>;
  /** Resolves once no live process of the group and session is left (see killGroup), or when `abort` fires. */
  waitGroupGone(id: ProcessIdentity, abort?: AbortSignal): Promise<void>;
  /**
   * Follow a process's output file (SpawnSpec.logFile; created when missing): the complete lines
   * written from now on are passed to onLines, and the file is rotated while it is written
   * whenever it reaches opts.maxBytes (copied to FILE.1, older copies shifted up to FILE.keep,
   * then truncated: the writer appends, so it goes on at the start of the emptied file).
   */
  followOutput(logFile: string, opts: OutputOptions, onLines: (lines: string[]) => void): OutputFollower;
  /**
   * Create a directory of crtosd's own with its parents, when missing (the loaders' log directory,
   * where SpawnSpec.logFile lies): a daemon path like logFile, not a machine path.
   */
  makeDirectory(path: string): Promise<void>;
  /**
   * Writes a file of crtosd's own that others read (the metrics file node_exporter collects): a
   * daemon path like SpawnSpec.logFile, never resolved under the root, written as installFile
   * writes (a dot-named temporary file beside it, fsync, rename), so a reader sees the old file or
   * the whole new one. Rejects with a HostError (HOST_WRITE_FAILED) carrying the errno.
   */
  writeOwnFile(path: string, content: string | Uint8Array, opts?: InstallFileOptions): Promise<void>;
  /** One TCP connect to host:port (a readiness probe); true when it was accepted within timeoutMs. */
  probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean>;
}
