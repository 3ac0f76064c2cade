/**
 * The Host on Linux: sysfs, procfs and device nodes are read under `root`, tools are found on
 * PATH and run with argv arrays. With root = a simulated machine directory and the simulator's
 * stand-in tools first on PATH, this same code drives the simulator.
 */
import { closeSync, constants as fsConstants, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { readFile, readdir, access, mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve as resolvePath, isAbsolute } from 'node:path';
import { connect } from 'node:net';
import type {
  AttributeRead,
  CellImage,
  ExitStatus,
  Host,
  InstallFileOptions,
  InterfaceInfo,
  LimitValue,
  ModuleInfo,
  ModuleSpec,
  OutputFollower,
  OutputOptions,
  ProcessIdentity,
  ProcessInfo,
  SpawnSpec,
  ToolCall,
  ToolRun,
  ToolRunObserver,
} from './host.js';
import { TOOL_RUN_ENV } from './host.js';
import { resolveInRoot } from './in-root.js';
import { HostError } from './host-error.js';
import { isErrnoName, type ErrnoName } from './errno.js';
import { parseCpuList, parseIpAddrJson, parseProcModules } from './parse.js';
import { findOnPath, runTool, runToolChecked } from './run-tool.js';
import { ipArgv, jailhouseArgv, loaderArgv, moduleArgv, type LoaderWrapping } from './argv.js';
import { installFileAtomically } from './install-file.js';
import { execReached, findProcessByEnv, pollGroupGone, pollUntilGone, readProcess, signalGroup, spawnDetached, type SpawnedProcess } from './processes.js';
import { followOutput } from './output-file.js';

export interface LinuxHostOptions {
  /** Every machine path is resolved under this directory; default `/`. */
  root?: string;
  /** Environment tools run in (PATH decides which tools); default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Kill a tool that runs longer than this; default 120 s. The backstop only: callers bound each
   * operation by its own timeout (ToolCall.signal). A hung `jailhouse` ioctl would otherwise block forever.
   */
  toolTimeoutMs?: number;
  /** How long a killed tool's process group has between SIGTERM and SIGKILL; default 500 ms. */
  killGraceMs?: number;
  /** How often a re-found process (not our child) is polled for its exit; default 250 ms. */
  exitPollMs?: number;
}

export function createLinuxHost(opts: LinuxHostOptions = {}): Host {
  return new LinuxHost(opts);
}

class LinuxHost implements Host {
  readonly root: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly toolTimeoutMs: number;
  private readonly exitPollMs: number;
  private readonly killGraceMs: number;
  /** Processes this host started: their exit status comes from the child handle. */
  private readonly children = new Map<string, SpawnedProcess>();
  /**
   * `jailhouse` commands whose caller gave up, killed but not exited yet (a process in an
   * uninterruptible ioctl dies only when the ioctl returns): they hold the driver lock, so no
   * other jailhouse command is started behind them, to finish late after its caller gave up too.
   */
  private readonly lingering = new Map<Promise<unknown>, () => string>();

  constructor(opts: LinuxHostOptions) {
    this.root = resolvePath(opts.root ?? '/');
    this.env = opts.env ?? process.env;
    this.toolTimeoutMs = opts.toolTimeoutMs ?? 120_000;
    this.exitPollMs = opts.exitPollMs ?? 250;
    this.killGraceMs = opts.killGraceMs ?? 500;
  }

  resolve(machinePath: string): string {
    if (!isAbsolute(machinePath)) {
      throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'resolve', message: `machine path must be absolute: ${machinePath}` });
    }
    // join normalizes `..` away from the root: a machine path can never leave it. Under another
    // root, links are followed inside it too (the machine's own root needs no such walk).
    return this.root === '/' ? resolvePath(machinePath) : resolveInRoot(this.root, machinePath);
  }

  // ---- observation -----------------------------------------------------------------------------

  async modules(): Promise<ModuleInfo[]> {
    const text = await this.readText('/proc/modules', 'modules');
    let parsed;
    try {
      parsed = parseProcModules(text);
    } catch (e) {
      throw new HostError({ code: 'HOST_READ_FAILED', op: 'modules', message: `modules: ${(e as Error).message}` });
    }
    return Promise.all(parsed.map(async (m) => ({ ...m, parameters: await this.moduleParameters(m.name) })));
  }

  private async moduleParameters(name: string): Promise<Record<string, string>> {
    const dir = this.resolve(`/sys/module/${name}/parameters`);
    let entries: string[];
    try {
      entries = (await readdir(dir)).filter((e) => !e.startsWith('.')).sort();
    } catch {
      return {};
    }
    const out: Record<string, string> = {};
    for (const entry of entries) {
      try {
        out[entry] = (await readFile(join(dir, entry), 'utf8')).replace(/\n$/, '');
      } catch {
        // Write-only or root-only parameters are skipped: "where readable".
      }
    }
    return out;
  }

  async onlineCpus(): Promise<number[]> {
    const list = await this.tryReadText('/sys/devices/system/cpu/online');
    if (list !== undefined) return parseCpuList(list);
    // No summary file: every cpuN directory without an `online` file reading 0 is online.
    const dir = this.resolve('/sys/devices/system/cpu');
    const cpus: number[] = [];
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      const m = /^cpu(\d+)$/.exec(entry);
      if (!m) continue;
      const online = await this.tryReadText(`/sys/devices/system/cpu/${entry}/online`);
      if (online === undefined || online.trim() === '1') cpus.push(Number(m[1]));
    }
    return cpus.sort((a, b) => a - b);
  }

  exists(machinePath: string): Promise<boolean> {
    return pathExists(this.resolve(machinePath));
  }

  readFile(machinePath: string): Promise<Buffer> {
    return readFile(this.resolve(machinePath)).catch((e: NodeJS.ErrnoException) => {
      throw new HostError({
        code: 'HOST_READ_FAILED',
        op: 'readFile',
        errno: e.code === 'ENOENT' || e.code === 'EACCES' ? e.code : undefined,
        message: `readFile: cannot read ${machinePath}: ${e.message}`,
      });
    });
  }

  async *readChunks(machinePath: string, chunkBytes: number): AsyncIterable<Buffer> {
    const failed = (e: unknown) =>
      new HostError({ code: 'HOST_READ_FAILED', op: 'readChunks', errno: errnoOf(e), message: `readChunks: cannot read ${machinePath}: ${(e as Error).message}` });
    let handle: FileHandle;
    try {
      handle = await open(this.resolve(machinePath), 'r');
    } catch (e) {
      throw e instanceof HostError ? e : failed(e);
    }
    try {
      for (;;) {
        const buffer = Buffer.allocUnsafe(chunkBytes);
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(buffer, 0, chunkBytes, null));
        } catch (e) {
          throw failed(e);
        }
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * Read synchronously: sysfs attributes are generated by the kernel from memory, so a read takes
   * microseconds, while the promise API costs four thread-pool round trips per file. With 32 cells
   * Jailhouse's status is 128 files per look, and a cell's start looks twice (before and after its
   * create), so asynchronous reads would cost ~10 ms of CPU per look and, on a busy machine, tens
   * of ms between one jailhouse command and the next.
   */
  async readAttributes(machinePaths: readonly string[]): Promise<AttributeRead[]> {
    const paths = machinePaths.map((p) => this.resolve(p));
    return paths.map((path): AttributeRead => {
      try {
        return { text: readFileSync(path, 'utf8') };
      } catch (e) {
        return { errno: errnoOf(e), error: (e as Error).message };
      }
    });
  }

  async readRange(machinePath: string, offset: bigint, length: number): Promise<Buffer> {
    const path = this.resolve(machinePath);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const buf = Buffer.alloc(length);
      const n = readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, n);
    } catch (e) {
      throw new HostError({ code: 'HOST_READ_FAILED', op: 'readRange', errno: errnoOf(e), message: `readRange: cannot read ${length} bytes at 0x${offset.toString(16)} of ${machinePath}: ${(e as Error).message}` });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Synchronous for the reason readAttributes is: a sysfs directory is listed from memory. */
  async readDir(machinePath: string): Promise<string[]> {
    try {
      return readdirSync(this.resolve(machinePath)).sort();
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw new HostError({ code: 'HOST_READ_FAILED', op: 'readDir', errno: errnoOf(e), message: `readDir: cannot read ${machinePath}: ${(e as Error).message}` });
    }
  }

  async interfaces(call?: ToolCall): Promise<InterfaceInfo[]> {
    const result = await this.run(ipArgv.show(), 'interfaces', call);
    try {
      return parseIpAddrJson(result.stdout);
    } catch (e) {
      throw new HostError({ code: 'HOST_READ_FAILED', op: 'interfaces', message: `interfaces: cannot parse \`ip -j addr show\`: ${(e as Error).message}` });
    }
  }

  process(id: ProcessIdentity): Promise<ProcessInfo | undefined> {
    return readProcess(id);
  }

  findProcessByEnv(name: string, value: string): Promise<ProcessInfo | undefined> {
    return findProcessByEnv(name, value);
  }

  // ---- actions ---------------------------------------------------------------------------------

  async installFile(source: string | Uint8Array, target: string, opts: InstallFileOptions = {}): Promise<void> {
    const from = typeof source === 'string' ? { source: this.resolve(source), machineSource: source } : { source, machineSource: `${source.length} bytes` };
    await installFileAtomically({ ...from, target: this.resolve(target), machineTarget: target }, opts.mode);
  }

  async writeAttribute(machinePath: string, value: string): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      // Write-only, no create, no truncate: the attribute must exist, and the kernel takes the one write whole.
      handle = await open(this.resolve(machinePath), fsConstants.O_WRONLY);
      await handle.write(value);
    } catch (e) {
      throw new HostError({ code: 'HOST_WRITE_FAILED', op: 'writeAttribute', errno: errnoOf(e), message: `writeAttribute: cannot write ${JSON.stringify(value)} to ${machinePath}: ${(e as Error).message}` });
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  async loadModule(spec: ModuleSpec, call?: ToolCall): Promise<void> {
    if (spec.path !== undefined) await this.run(moduleArgv.insmod(this.resolve(spec.path), spec.parameters), 'loadModule', call);
    else if (spec.name !== undefined) await this.run(moduleArgv.modprobe(spec.name, spec.parameters), 'loadModule', call);
    else throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'loadModule', message: 'loadModule: give a module name or a path' });
  }

  async unloadModule(name: string, call?: ToolCall): Promise<void> {
    await this.run(moduleArgv.rmmod(name), 'unloadModule', call);
  }

  async enableJailhouse(systemConfig: string, call?: ToolCall): Promise<void> {
    await this.run(jailhouseArgv.enable(this.resolve(systemConfig)), 'enableJailhouse', call);
  }

  async disableJailhouse(call?: ToolCall): Promise<void> {
    await this.run(jailhouseArgv.disable(), 'disableJailhouse', call);
  }

  async createCell(cellConfig: string, call?: ToolCall): Promise<void> {
    await this.run(jailhouseArgv.create(this.resolve(cellConfig)), 'createCell', call);
  }

  async loadCell(name: string, images: CellImage[], call?: ToolCall): Promise<void> {
    const resolved = images.map((i) => (i.file === undefined ? i : { ...i, file: this.resolve(i.file) }));
    await this.run(jailhouseArgv.load(name, resolved), 'loadCell', call);
  }

  async startCell(name: string, call?: ToolCall): Promise<void> {
    await this.run(jailhouseArgv.start(name), 'startCell', call);
  }

  async shutdownCell(name: string, call?: ToolCall): Promise<void> {
    await this.run(jailhouseArgv.shutdown(name), 'shutdownCell', call);
  }

  async destroyCell(name: string, call?: ToolCall): Promise<void> {
    await this.run(jailhouseArgv.destroy(name), 'destroyCell', call);
  }

  async addAddress(ifname: string, cidr: string, call?: ToolCall): Promise<void> {
    checkInterfaceName(ifname, 'addAddress');
    checkCidr(cidr, 'addAddress');
    await this.run(ipArgv.addAddress(ifname, cidr), 'addAddress', call);
  }

  async removeAddress(ifname: string, cidr: string, call?: ToolCall): Promise<void> {
    checkInterfaceName(ifname, 'removeAddress');
    checkCidr(cidr, 'removeAddress');
    await this.run(ipArgv.removeAddress(ifname, cidr), 'removeAddress', call);
  }

  async setLinkUp(ifname: string, call?: ToolCall): Promise<void> {
    checkInterfaceName(ifname, 'setLinkUp');
    await this.run(ipArgv.linkUp(ifname), 'setLinkUp', call);
  }

  async spawn(spec: SpawnSpec, call?: ToolCall): Promise<ProcessIdentity> {
    const [program, ...args] = spec.argv;
    if (program === undefined) throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'spawn', message: 'spawn: empty argv' });
    const wrap: LoaderWrapping = {
      scheduling: spec.scheduling,
      cpus: spec.cpus,
      limits: spec.limits && resolveLimits(spec.limits),
      credentials: await this.credentials(spec.user, spec.group, call),
    };
    // Each wrapper is looked up only when used, so a machine without one can run loaders that need none.
    const wrappers: string[] = [];
    const used = (name: string, needed: boolean): string => {
      if (!needed) return name;
      const path = this.tool(name, 'spawn')();
      wrappers.push(path);
      return path;
    };
    const programPath = isAbsolute(program) ? this.resolve(program) : program;
    const argv = loaderArgv([programPath, ...args], wrap, {
      prlimit: used('prlimit', wrap.limits !== undefined && Object.keys(wrap.limits).length > 0),
      chrt: used('chrt', wrap.scheduling !== undefined),
      taskset: used('taskset', wrap.cpus !== undefined && wrap.cpus.length > 0),
      setpriv: used('setpriv', wrap.credentials !== undefined),
    });
    // `/` by default, as systemd starts services, resolved under the root like the program: on a
    // simulated machine the loader runs in the machine directory, not in crtosd's.
    const cwd = this.resolve(spec.cwd ?? '/');
    // Recorded before the spawn (with a token in its environment) while wrappers must still exec:
    // a crtosd killed meanwhile leaves a record by which the next one waits for the program.
    let token: string | undefined;
    if (wrappers.length > 0) notify(() => (token = call?.runs?.spawning?.(argv, wrappers)));
    const env = token === undefined ? spec.env : { ...spec.env, [TOOL_RUN_ENV]: token };
    const spawned = spawnDetached({ argv, env, cwd, logFile: spec.logFile });
    this.children.set(key(spawned.identity), spawned);
    void spawned.exited.then(() => setTimeout(() => this.children.delete(key(spawned.identity)), 60_000).unref());
    if (wrappers.length > 0) await this.untilExecReached(spawned, argv, programPath, wrappers, call, token);
    return spawned.identity;
  }

  /**
   * A loader is the program only once every wrapper exec'd the next: until then a hung wrapper
   * (chrt, prlimit, taskset, setpriv) would be taken for a running loader. Polls its command line
   * (soon at first: a native wrapper execs within a millisecond) until no wrapper's is left, or
   * the process ended (its exit is the supervisor's business); when the caller gives up, or the
   * host's tool limit passes, its process group is killed and the spawn fails.
   */
  private async untilExecReached(spawned: SpawnedProcess, argv: string[], program: string, wrappers: string[], call: ToolCall | undefined, token: string | undefined): Promise<void> {
    const { identity } = spawned;
    const run: ToolRun = { op: 'spawn', pid: identity.pid, startTime: identity.startTime, argv, wrappers, ...(token === undefined ? {} : { token }) };
    notify(() => call?.runs?.started(run));
    let ended = false;
    void spawned.exited.then(() => (ended = true));
    const deadline = Date.now() + this.toolTimeoutMs;
    try {
      for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
        const info = ended ? undefined : await readProcess(identity);
        if (!info || info.state === 'Z' || info.state === 'X' || execReached(info.argv, wrappers)) return;
        const aborted = call?.signal?.aborted === true;
        if (aborted || Date.now() >= deadline) {
          const stuck = info.argv.slice(0, 2).find((a) => wrappers.includes(a)) ?? argv[0] ?? '';
          await this.killSpawnedGroup(identity);
          throw new HostError({
            code: 'HOST_TOOL_TIMEOUT',
            op: 'spawn',
            errno: 'ETIMEDOUT',
            argv,
            message: `spawn: \`${basename(stuck)}\` (pid ${identity.pid}) did not exec ${program} ${aborted ? "before its caller's deadline" : `within ${this.toolTimeoutMs} ms`}; killed it with its process group`,
          });
        }
        await sleepUnlessAborted(Math.min(delay, Math.max(1, deadline - Date.now())), call?.signal);
      }
    } finally {
      notify(() => call?.runs?.ended(run));
    }
  }

  /** SIGTERM to a spawned process's group, SIGKILL after the grace, and a while to see it go. */
  private async killSpawnedGroup(id: ProcessIdentity): Promise<void> {
    if (signalGroup(id, 'SIGTERM') === 0) return;
    await pollGroupGone(id, this.exitPollMs, AbortSignal.timeout(this.killGraceMs));
    if (signalGroup(id, 'SIGKILL') === 0) return;
    await pollGroupGone(id, this.exitPollMs, AbortSignal.timeout(Math.max(1000, this.killGraceMs)));
  }

  /**
   * setpriv's arguments for a user and group: a group by default the user's primary one, and the
   * user's supplementary groups (initgroups needs its passwd entry; a numeric user without one
   * gets none and must name its group). Users are the real machine's, as the process is real; `id`
   * resolves them with NSS, so an unknown user fails the start here rather than in the process.
   */
  private async credentials(user: string | undefined, group: string | undefined, call: ToolCall | undefined): Promise<LoaderWrapping['credentials']> {
    if (user === undefined) return group === undefined ? undefined : { group, initGroups: false };
    const primary = await runTool(['id', '-g', user], { env: this.env, timeoutMs: this.toolTimeoutMs, killGraceMs: this.killGraceMs, signal: call?.signal, runs: call?.runs, op: 'spawn' });
    if (primary.exitCode === 0) return { user, group: group ?? primary.stdout.trim(), initGroups: true };
    if (!/^\d+$/.test(user)) {
      throw new HostError({ code: 'HOST_SPAWN_FAILED', op: 'spawn', errno: 'ENOENT', message: `spawn: no user named ${JSON.stringify(user)} on this machine`, hint: 'create the user, or give a numeric id' });
    }
    if (group === undefined) {
      throw new HostError({ code: 'HOST_SPAWN_FAILED', op: 'spawn', errno: 'ENOENT', message: `spawn: user ${user} has no passwd entry, so it has no primary group`, hint: 'give `group` too' });
    }
    return { user, group, initGroups: false };
  }

  waitExit(id: ProcessIdentity): Promise<ExitStatus> {
    const child = this.children.get(key(id));
    if (child) return child.exited;
    return pollUntilGone(id, this.exitPollMs);
  }

  async kill(id: ProcessIdentity, signal: NodeJS.Signals): Promise<boolean> {
    const info = await readProcess(id);
    if (info === undefined || info.state === 'Z') return false;
    try {
      process.kill(id.pid, signal);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw new HostError({ code: 'HOST_INTERNAL', op: 'kill', message: `kill: ${(e as Error).message}` });
    }
  }

  async killGroup(id: ProcessIdentity, signal: NodeJS.Signals): Promise<number> {
    return signalGroup(id, signal);
  }

  waitGroupGone(id: ProcessIdentity, abort?: AbortSignal): Promise<void> {
    return pollGroupGone(id, this.exitPollMs, abort);
  }

  followOutput(logFile: string, opts: OutputOptions, onLines: (lines: string[]) => void): OutputFollower {
    try {
      return followOutput(logFile, opts, onLines);
    } catch (e) {
      throw new HostError({ code: 'HOST_WRITE_FAILED', op: 'followOutput', message: `followOutput: cannot open ${logFile}: ${(e as Error).message}` });
    }
  }

  async makeDirectory(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  async writeOwnFile(path: string, content: string | Uint8Array, opts: InstallFileOptions = {}): Promise<void> {
    const source = typeof content === 'string' ? Buffer.from(content) : content;
    await installFileAtomically({ source, machineSource: `${source.length} bytes`, target: path, machineTarget: path }, opts.mode);
  }

  probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (ok: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * Runs a tool for an operation, bounded by the host's limit and the caller's signal. A jailhouse
   * command waits first for jailhouse commands given up and killed but not exited yet (lingering),
   * and is not run at all if its own caller gives up meanwhile.
   */
  private async run(argv: string[], op: string, call?: ToolCall) {
    const jailhouse = argv[0] === 'jailhouse';
    if (jailhouse && this.lingering.size > 0) await this.afterLingering(argv, op, call?.signal);
    let pid: number | undefined;
    const runs: ToolRunObserver = {
      spawning: (argv) => call?.runs?.spawning?.(argv),
      started: (run: ToolRun) => {
        pid = run.pid;
        call?.runs?.started(run);
      },
      ended: (run: ToolRun) => call?.runs?.ended(run),
    };
    const result = runToolChecked(argv, { env: this.env, timeoutMs: this.toolTimeoutMs, killGraceMs: this.killGraceMs, signal: call?.signal, runs, op });
    const signal = call?.signal;
    if (jailhouse && signal) {
      const onAbort = () => {
        this.lingering.set(result, () => `\`${argv.join(' ')}\`${pid === undefined ? '' : ` (pid ${pid})`}`);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void result.then(
        () => undefined,
        () => undefined,
      ).finally(() => {
        signal.removeEventListener('abort', onAbort);
        this.lingering.delete(result);
      });
    }
    return result;
  }

  private async afterLingering(argv: string[], op: string, signal: AbortSignal | undefined): Promise<void> {
    const waiting = [...this.lingering];
    const gone = Promise.allSettled(waiting.map(([p]) => p)).then(() => true);
    const givenUp = new Promise<boolean>((resolve) => {
      const limit = setTimeout(() => resolve(false), this.toolTimeoutMs);
      const stop = () => {
        clearTimeout(limit);
        resolve(false);
      };
      if (signal?.aborted) stop();
      signal?.addEventListener('abort', stop, { once: true });
      void gone.then(() => {
        clearTimeout(limit);
        signal?.removeEventListener('abort', stop);
      });
    });
    if (await Promise.race([gone, givenUp])) return;
    throw new HostError({
      code: 'HOST_TOOL_TIMEOUT',
      op,
      errno: 'ETIMEDOUT',
      argv,
      message: `${op}: \`${argv.join(' ')}\` was not run: ${waiting.map(([, d]) => d()).join(', ')}, killed when its caller gave up, has not exited yet and holds the Jailhouse driver lock`,
      hint: 'a jailhouse command stuck in the kernel ends only when its ioctl returns; see the kernel log',
    });
  }

  /** A lazy lookup, so a machine without chrt can still run loaders that need no scheduling. */
  private tool(name: string, op: string): () => string {
    return () => {
      const path = findOnPath(name, this.env);
      if (path === undefined) {
        throw new HostError({ code: 'HOST_TOOL_NOT_FOUND', op, errno: 'ENOENT', message: `${op}: \`${name}\` not found on PATH`, hint: `install ${name} (util-linux)` });
      }
      return path;
    };
  }

  private async readText(machinePath: string, op: string): Promise<string> {
    try {
      return await readFile(this.resolve(machinePath), 'utf8');
    } catch (e) {
      throw new HostError({ code: 'HOST_READ_FAILED', op, message: `${op}: cannot read ${machinePath}: ${(e as Error).message}` });
    }
  }

  private async tryReadText(machinePath: string): Promise<string | undefined> {
    try {
      return await readFile(this.resolve(machinePath), 'utf8');
    } catch {
      return undefined;
    }
  }
}

/**
 * Limits as prlimit takes them. RLIMIT_NOFILE cannot be unlimited (setrlimit refuses more than
 * fs.nr_open), so `infinity` there means the kernel's ceiling, as systemd does (real /proc: the
 * process is real).
 */
function resolveLimits(limits: NonNullable<SpawnSpec['limits']>): NonNullable<SpawnSpec['limits']> {
  const out: Partial<Record<keyof typeof limits, LimitValue>> = { ...limits };
  if (out.nofile === 'infinity') {
    try {
      out.nofile = BigInt(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
    } catch {
      out.nofile = 1048576n; // the kernel's default nr_open
    }
  }
  return out;
}

/** The errno of a failed file system call, when it is one crtosd names. */
function errnoOf(e: unknown): ErrnoName | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  return code !== undefined && isErrnoName(code) ? code : undefined;
}

function key(id: ProcessIdentity): string {
  return `${id.pid}@${id.startTime}`;
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function checkInterfaceName(ifname: string, op: string): void {
  // The kernel's rule (dev_valid_name): 1..15 bytes, not . or .., no '/', ':' or whitespace.
  if (!/^[^/:\s]{1,15}$/.test(ifname) || ifname === '.' || ifname === '..') {
    throw new HostError({ code: 'HOST_BAD_ARGUMENT', op, message: `${op}: not a valid interface name: ${JSON.stringify(ifname)}` });
  }
}

function checkCidr(cidr: string, op: string): void {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const ok = v4
    ? v4.slice(1, 5).every((o) => Number(o) <= 255) && Number(v4[5]) <= 32
    : /^[0-9a-fA-F:]+\/(\d{1,3})$/.test(cidr) && cidr.includes(':') && Number(cidr.split('/')[1]) <= 128;
  if (!ok) throw new HostError({ code: 'HOST_BAD_ARGUMENT', op, message: `${op}: not an address with prefix length (like 172.16.0.1/24): ${JSON.stringify(cidr)}` });
}

/** An observer that throws must not break the operation it watches. */
function notify(fn: () => void): void {
  try {
    fn();
  } catch {
    // The observer reports its own failures.
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
