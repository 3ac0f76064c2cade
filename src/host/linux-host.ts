/**
 * The Host on Linux: sysfs, procfs and device nodes are read under `root`, tools are found on
 * PATH and run with argv arrays. With root = a simulated machine directory and the simulator's
 * stand-in tools first on PATH, this same code drives the simulator.
 */
import { readFile, readdir, access } from 'node:fs/promises';
import { join, resolve as resolvePath, isAbsolute } from 'node:path';
import { connect } from 'node:net';
import type {
  CellImage,
  CellInfo,
  ExitStatus,
  Host,
  InstallFileOptions,
  InterfaceInfo,
  JailhouseStatus,
  ModuleInfo,
  ModuleSpec,
  ProcessIdentity,
  ProcessInfo,
  SpawnSpec,
} from './host.js';
import { HostError } from './host-error.js';
import { parseCpuList, parseIpAddrJson, parseProcModules } from './parse.js';
import { findOnPath, runToolChecked } from './run-tool.js';
import { ipArgv, jailhouseArgv, loaderArgv, moduleArgv } from './argv.js';
import { installFileAtomically } from './install-file.js';
import { findProcessByEnv, pollUntilGone, readProcess, spawnDetached, type SpawnedProcess } from './processes.js';

export interface LinuxHostOptions {
  /** Every machine path is resolved under this directory; default `/`. */
  root?: string;
  /** Environment tools run in (PATH decides which tools); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Kill a tool that runs longer than this; default 120 s. A hung `jailhouse` ioctl would otherwise block forever. */
  toolTimeoutMs?: number;
  /** How often a re-found process (not our child) is polled for its exit; default 250 ms. */
  exitPollMs?: number;
}

const JAILHOUSE_SYSFS = '/sys/devices/jailhouse';

export function createLinuxHost(opts: LinuxHostOptions = {}): Host {
  return new LinuxHost(opts);
}

class LinuxHost implements Host {
  readonly root: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly toolTimeoutMs: number;
  private readonly exitPollMs: number;
  /** Processes this host started: their exit status comes from the child handle. */
  private readonly children = new Map<string, SpawnedProcess>();

  constructor(opts: LinuxHostOptions) {
    this.root = resolvePath(opts.root ?? '/');
    this.env = opts.env ?? process.env;
    this.toolTimeoutMs = opts.toolTimeoutMs ?? 120_000;
    this.exitPollMs = opts.exitPollMs ?? 250;
  }

  resolve(machinePath: string): string {
    if (!isAbsolute(machinePath)) {
      throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'resolve', message: `machine path must be absolute: ${machinePath}` });
    }
    // join normalizes `..` away from the root: a machine path can never leave it.
    return join(this.root, resolvePath('/', machinePath));
  }

  // ---- observation -----------------------------------------------------------------------------

  async jailhouse(): Promise<JailhouseStatus> {
    const base = this.resolve(JAILHOUSE_SYSFS);
    if (!(await pathExists(base))) return { loaded: false, enabled: false, cells: [] };
    const enabled = (await this.readText(`${JAILHOUSE_SYSFS}/enabled`, 'jailhouse')).trim() === '1';
    let ids: number[] = [];
    try {
      ids = (await readdir(join(base, 'cells')))
        .filter((e) => /^\d+$/.test(e))
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      ids = [];
    }
    const cells: CellInfo[] = [];
    for (const id of ids) {
      const cell = await this.readCell(id);
      if (cell) cells.push(cell);
    }
    return { loaded: true, enabled, cells };
  }

  /** undefined when the cell vanished while being read (destroyed concurrently). */
  private async readCell(id: number): Promise<CellInfo | undefined> {
    const dir = this.resolve(`${JAILHOUSE_SYSFS}/cells/${id}`);
    try {
      const [name, state, assigned, failed] = await Promise.all(
        ['name', 'state', 'cpus_assigned_list', 'cpus_failed_list'].map((f) => readFile(join(dir, f), 'utf8')),
      );
      return {
        id,
        name: (name as string).replace(/\n$/, ''),
        state: (state as string).replace(/\n$/, ''),
        cpusAssigned: parseCpuList(assigned as string),
        cpusFailed: parseCpuList(failed as string),
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new HostError({ code: 'HOST_READ_FAILED', op: 'jailhouse', message: `jailhouse: cannot read ${dir}: ${(e as Error).message}` });
    }
  }

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

  async interfaces(): Promise<InterfaceInfo[]> {
    const result = await this.run(ipArgv.show(), 'interfaces');
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

  async loadModule(spec: ModuleSpec): Promise<void> {
    if (spec.path !== undefined) await this.run(moduleArgv.insmod(this.resolve(spec.path), spec.parameters), 'loadModule');
    else if (spec.name !== undefined) await this.run(moduleArgv.modprobe(spec.name, spec.parameters), 'loadModule');
    else throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'loadModule', message: 'loadModule: give a module name or a path' });
  }

  async unloadModule(name: string): Promise<void> {
    await this.run(moduleArgv.rmmod(name), 'unloadModule');
  }

  async enableJailhouse(systemConfig: string): Promise<void> {
    await this.run(jailhouseArgv.enable(this.resolve(systemConfig)), 'enableJailhouse');
  }

  async disableJailhouse(): Promise<void> {
    await this.run(jailhouseArgv.disable(), 'disableJailhouse');
  }

  async createCell(cellConfig: string, expectedName: string): Promise<CellInfo> {
    const argv = jailhouseArgv.create(this.resolve(cellConfig));
    await this.run(argv, 'createCell');
    const status = await this.jailhouse();
    const cell = status.cells.find((c) => c.name === expectedName);
    if (cell) return cell;
    throw new HostError({
      code: 'HOST_CELL_NOT_CREATED',
      op: 'createCell',
      argv,
      exitCode: 0,
      message: `createCell: \`${argv.join(' ')}\` succeeded but no cell named "${expectedName}" appeared in ${JAILHOUSE_SYSFS}/cells`,
      hint: 'check that the cell configuration was built for this machine\'s architecture (Jailhouse ignores a mismatching one silently)',
    });
  }

  async loadCell(name: string, images: CellImage[]): Promise<void> {
    const resolved = images.map((i) => (i.file === undefined ? i : { ...i, file: this.resolve(i.file) }));
    await this.run(jailhouseArgv.load(name, resolved), 'loadCell');
  }

  async startCell(name: string): Promise<void> {
    await this.run(jailhouseArgv.start(name), 'startCell');
  }

  async shutdownCell(name: string): Promise<void> {
    await this.run(jailhouseArgv.shutdown(name), 'shutdownCell');
  }

  async destroyCell(name: string): Promise<void> {
    await this.run(jailhouseArgv.destroy(name), 'destroyCell');
  }

  async addAddress(ifname: string, cidr: string): Promise<void> {
    checkInterfaceName(ifname, 'addAddress');
    checkCidr(cidr, 'addAddress');
    await this.run(ipArgv.addAddress(ifname, cidr), 'addAddress');
  }

  async removeAddress(ifname: string, cidr: string): Promise<void> {
    checkInterfaceName(ifname, 'removeAddress');
    checkCidr(cidr, 'removeAddress');
    await this.run(ipArgv.removeAddress(ifname, cidr), 'removeAddress');
  }

  async setLinkUp(ifname: string): Promise<void> {
    checkInterfaceName(ifname, 'setLinkUp');
    await this.run(ipArgv.linkUp(ifname), 'setLinkUp');
  }

  async spawn(spec: SpawnSpec): Promise<ProcessIdentity> {
    const [program, ...args] = spec.argv;
    if (program === undefined) throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'spawn', message: 'spawn: empty argv' });
    const tools = { chrt: this.tool('chrt', 'spawn'), taskset: this.tool('taskset', 'spawn') };
    const needChrt = spec.scheduling !== undefined;
    const needTaskset = spec.cpus !== undefined && spec.cpus.length > 0;
    const argv = loaderArgv(
      [isAbsolute(program) ? this.resolve(program) : program, ...args],
      spec.scheduling,
      spec.cpus,
      { chrt: needChrt ? tools.chrt() : 'chrt', taskset: needTaskset ? tools.taskset() : 'taskset' },
    );
    const spawned = spawnDetached({ argv, env: spec.env, cwd: spec.cwd === undefined ? undefined : this.resolve(spec.cwd), logFile: spec.logFile });
    this.children.set(key(spawned.identity), spawned);
    void spawned.exited.then(() => setTimeout(() => this.children.delete(key(spawned.identity)), 60_000).unref());
    return spawned.identity;
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

  private run(argv: string[], op: string) {
    return runToolChecked(argv, { env: this.env, timeoutMs: this.toolTimeoutMs, op });
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
