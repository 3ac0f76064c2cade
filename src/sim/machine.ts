/**
 * Creating and driving a simulated machine: a directory with the real layout (sys/, proc/, dev/,
 * etc/, opt/, lib/modules/) plus stand-in tools in DIR/bin. `crtosd --root DIR` with DIR/bin first
 * on PATH runs against it unchanged.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { ProblemError, problem } from '../errors/problem.js';
import { mergeDescription, validateDescription, type MachineDescription } from './description.js';
import { initialState, type CellReply, type SimState } from './state.js';
import { appendLog, commitState, paths, readDescription, readLogSync, readState, updateState, type SimLogEntry } from './store.js';
import { emptyFaults, readFaults, writeFaults, type SimCellFailure, type SimFault, type SimFaultFile, type SimOperation, type SimProcessorFault, type SimTimings } from './faults.js';
import { encodeExampleConfigs, nuttxImage } from './crtos-example.js';
import { writeRtmuxExample } from './rtmux-example.js';
import { SIM_MODULE_MARK } from './tools/kmod.js';
import { toolBundlePath, toolClientPath } from './bundle.js';
import { failCell as failCellInState } from './jailhouse-driver.js';
import { hangInmate, inmateOf, stopInmateHost, syncInmates } from './inmates/control.js';
import { runTool } from './tools/dispatch.js';
import type { RemoteprocModel } from './remoteproc/model.js';
import { kernelControl, startKernel, stopKernel } from './remoteproc/control.js';
import { kernelBundlePath, readModel } from './remoteproc/files.js';
import { fuseMountsUnder, unmount } from './remoteproc/mounts.js';
import { remoteprocExampleFiles } from './remoteproc/example.js';
import { fleetExampleFiles } from './fleet-examples.js';

export interface SimMachine {
  readonly dir: string;
  readonly description: MachineDescription;
  /** Directory of the stand-in tools (jailhouse, modprobe, insmod, rmmod, ip, chrt). */
  readonly binDir: string;
  /** process.env with the stand-ins first on PATH: the environment crtosd runs in. */
  readonly env: NodeJS.ProcessEnv;
  /** Where a started cell listens (loopback), or undefined when the description gives it none. */
  readinessEndpoint(cell?: string): { host: string; port: number } | undefined;
  readLog(): Promise<SimLogEntry[]>;
  clearLog(): Promise<void>;
  /** Replaces the injected faults (each fires `times` times, or always). */
  setFaults(faults: SimFault[]): Promise<void>;
  addFault(fault: SimFault): Promise<void>;
  /** Replaces the latencies, operation → milliseconds. */
  setLatencies(latencies: Partial<Record<SimOperation, number>>): Promise<void>;
  /**
   * Replaces the scheduled cell failures: `{cell, afterStartMs}` or `{cell, at}` (the inmate host
   * fails the running cell), or `{cell, atStart: true}` (failed inside `cell start`, before it
   * returns); each with an optional `times`.
   */
  setCellFailures(failures: SimCellFailure[]): Promise<void>;
  /**
   * Sets the durations of the driver's slow phases (`destroyMs`, `disableMs`), merged over the
   * current ones; `null` goes back to the defaults. REAL_TIMINGS holds the real hypervisor's.
   */
  setTimings(timings: SimTimings | null): Promise<void>;
  faults(): Promise<SimFaultFile>;
  /** A running cell goes to `failed` now (its CPUs show as failed, its endpoint closes). */
  failCell(name: string): Promise<void>;
  /**
   * The running cell's guest hangs as a hung RTOS does: the cell stays `running`, its endpoint
   * accepts and answers nothing (log: `cell hung`). False when no guest of the cell runs.
   */
  hangCell(name: string): boolean;
  /** The inmate host's PID and the run token of the cell's guest, while one serves it. */
  inmate(name: string): { pid: number; token: string } | undefined;
  /**
   * What a cell itself can do to its state: lock reconfiguration (`running/locked`, which makes
   * create and destroy of other cells EPERM), unlock it, or report a comm ABI mismatch.
   */
  setCellState(name: string, state: 'running' | 'running/locked' | 'Comm ABI mismatch'): Promise<void>;
  /** How a (non-passive) cell answers shutdown requests from now on: approve, deny, or silent. */
  setCellReply(name: string, reply: CellReply): Promise<void>;
  /** Take a CPU offline or online behind Jailhouse's back (as `echo 0 > cpuN/online` would). */
  setCpuOnline(cpu: number, online: boolean): Promise<void>;
  /** The hidden state (cells, modules, interfaces), for assertions. */
  state(): Promise<SimState>;
  /** Runs a stand-in tool through its wrapper, as crtosd would. */
  run(tool: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /**
   * Runs a stand-in tool's code in this process: the same behaviour and log entries, without
   * starting node (for fast test setup). Paths are machine paths (`/etc/jailhouse/x.cell`).
   */
  runInProcess(tool: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Brings the cRTOS example up to a stage, in-process: each stage includes the ones before it; steps already done are skipped. */
  bringUp(stage: BringUpStage): Promise<void>;
  /**
   * The remote processors as the simulated kernel holds them (src/sim/remoteproc/model.ts):
   * processors, cores, rpmsg channels, devcoredumps, the kernel log. Written before a write to
   * its sysfs returns, so it is current after one.
   */
  remoteproc(): Promise<RemoteprocModel>;
  /** Replaces the injected processor faults (crash or hang after some time running, boot failures). */
  setProcessorFaults(faults: SimProcessorFault[]): Promise<void>;
  /** The processor's firmware crashes now (rproc_report_crash, as debugfs `crash` does); recovery follows if enabled. */
  crashProcessor(name: string, type?: SimProcessorFault['crashType']): Promise<void>;
  /** The processor's firmware hangs now: `running` still, but no heartbeat and no rpmsg replies. */
  hangProcessor(name: string): Promise<void>;
  /**
   * Stops the machine's inmate host, every guest with it (cells stay as they are on disk); a remoteproc machine
   * is powered off (its kernel server stops and its sysfs is unmounted).
   */
  dispose(): Promise<void>;
}

export type BringUpStage = 'module' | 'enabled' | 'created' | 'loaded' | 'running' | 'drivers' | 'network';

/** The manual cRTOS bring-up as its installation instructions give it, one stage per step, each with its "done" test. */
const BRING_UP: [BringUpStage, string, string[], (s: SimState) => boolean][] = [
  ['module', 'modprobe', ['jailhouse'], (s) => s.modules.some((m) => m.name === 'jailhouse')],
  ['enabled', 'jailhouse', ['enable', '/etc/jailhouse/sysconfig.cell'], (s) => s.jailhouse.enabled],
  ['created', 'jailhouse', ['cell', 'create', '/etc/jailhouse/nuttx.cell'], (s) => s.jailhouse.cells.some((c) => c.name === 'nuttx')],
  ['loaded', 'jailhouse', ['cell', 'load', '--name', 'nuttx', '/opt/crtos/nuttx.bin', '--address', '0x0'], (s) => s.jailhouse.cells.some((c) => c.name === 'nuttx' && (c.images.length > 0 || c.state === 'running'))],
  ['running', 'jailhouse', ['cell', 'start', '--name', 'nuttx'], (s) => s.jailhouse.cells.some((c) => c.name === 'nuttx' && c.state === 'running')],
  ['drivers', 'insmod', ['/opt/crtos/drivers/shadow.ko'], (s) => s.modules.some((m) => m.name === 'shadow')],
  ['drivers', 'insmod', ['/opt/crtos/drivers/ivshmem-net.ko'], (s) => s.modules.some((m) => m.name === 'ivshmem_net')],
  ['network', 'ip', ['addr', 'add', '172.16.0.1/24', 'dev', 'enp0s13'], (s) => s.interfaces.some((i) => i.name === 'enp0s13' && i.addresses.includes('172.16.0.1/24'))],
  ['network', 'ip', ['link', 'set', 'dev', 'enp0s13', 'up'], (s) => s.interfaces.some((i) => i.name === 'enp0s13' && i.up)],
];

const WRAPPED_TOOLS = ['jailhouse', 'modprobe', 'insmod', 'rmmod', 'ip'] as const;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function wrapper(dir: string, tool: string, bundle: string, client?: string): string {
  return `#!/bin/sh\n# Stand-in ${tool} of the crtos simulated machine in ${dir}\nCRTOS_SIM_DIR=${shellQuote(dir)}; export CRTOS_SIM_DIR\nexec ${toolCommand(dir, tool, bundle, client)} "$@"\n`;
}

/**
 * How a wrapper runs a stand-in: through the C client and the machine's tool server when the
 * build compiled the client (a few ms), else its own Node.js process.
 */
function toolCommand(dir: string, tool: string, bundle: string, client: string | undefined): string {
  const node = shellQuote(process.execPath);
  return client ? `${shellQuote(client)} ${shellQuote(dir)} ${node} ${shellQuote(bundle)} ${tool}` : `${node} ${shellQuote(bundle)} ${tool}`;
}

/** chrt: the stand-in records policy and priority, then the script execs the program itself. */
function chrtWrapper(dir: string, bundle: string, client?: string): string {
  return (
    `#!/bin/sh\n# Stand-in chrt of the crtos simulated machine in ${dir}: records, then execs without changing the scheduler\n` +
    `CRTOS_SIM_DIR=${shellQuote(dir)}; export CRTOS_SIM_DIR\n` +
    `${toolCommand(dir, 'chrt', bundle, client)} "$@" || exit $?\nshift 2\nexec "$@"\n`
  );
}

function writeFile0(path: string, content: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  if (mode !== undefined) chmodSync(path, mode);
}

/**
 * A free endpoint for a cell to listen on. Many machines run side by side (parallel tests), and
 * a port that was free when one was created could be handed to another machine, or to any
 * outgoing connection as its local port, before its cell listens. So: a port below Linux's
 * ephemeral range (never given to outgoing connections), and for the default host 127.0.0.1 a
 * random address of 127.0.0.0/8 instead (all of it is loopback), so two machines practically never
 * draw the same endpoint; checked by binding it.
 */
async function freeEndpoint(host: string): Promise<{ host: string; port: number }> {
  const byte = () => 1 + Math.floor(Math.random() * 254);
  for (let attempt = 0; ; attempt++) {
    const candidate = {
      host: host === '127.0.0.1' ? `127.${byte()}.${byte()}.${byte()}` : host,
      port: 20_000 + Math.floor(Math.random() * 12_000),
    };
    if (await canListen(candidate.host, candidate.port)) return candidate;
    if (attempt >= 50) throw new Error(`no free port on ${host} after ${attempt + 1} attempts`);
  }
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

export interface CreateOptions {
  /**
   * A remoteproc machine's kernel server outlives the creating process (`crtos-sim create`) and
   * runs until destroySimMachine or `crtos-sim destroy`; by default it stops, unmounting its
   * sysfs, when the creating process exits (a test cannot leave mounts behind).
   */
  persistent?: boolean;
}

export async function createSimMachine(dirArg: string, partial?: Partial<MachineDescription>, options: CreateOptions = {}): Promise<SimMachine> {
  const dir = resolve(dirArg);
  const description = mergeDescription(partial);
  const problems = validateDescription(description);
  if (problems.length > 0) {
    throw new ProblemError(problems.map((p) => problem('HOST_SIM_BAD_DESCRIPTION', p, { file: paths.description(dir) })));
  }
  if (existsSync(paths.description(dir))) {
    throw new ProblemError(problem('HOST_SIM_BAD_DESCRIPTION', `${dir} already holds a simulated machine`, { hint: 'remove it or choose another directory' }));
  }
  for (const r of description.readiness) if (r.port === 0) Object.assign(r, await freeEndpoint(r.host));
  const bundle = toolBundlePath();
  mkdirSync(join(dir, '.sim'), { recursive: true });
  writeFileSync(paths.description(dir), `${JSON.stringify(description, null, 2)}\n`);
  writeFileSync(paths.faults(dir), `${JSON.stringify(emptyFaults(), null, 2)}\n`);
  writeFileSync(paths.log(dir), '');
  for (const sub of ['dev', 'proc', 'sys/module', 'etc', 'run', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  // Where request_firmware looks; crtosd installs images there.
  if (description.remoteproc) mkdirSync(join(dir, 'lib/firmware'), { recursive: true });
  const real = new Set<string>(description.realTools ?? []);
  const client = toolClientPath(bundle);
  for (const tool of WRAPPED_TOOLS) if (!real.has(tool)) writeFile0(join(dir, 'bin', tool), wrapper(dir, tool, bundle, client), 0o755);
  if (!real.has('chrt')) writeFile0(join(dir, 'bin', 'chrt'), chrtWrapper(dir, bundle, client), 0o755);
  writeModules(dir, description);
  writeFile0(join(dir, 'opt/crtos/loader'), wrapper(dir, 'loader', bundle), 0o755);
  if (description.example === 'crtos') writeExample(dir, description);
  else if (description.example === 'rtmux') writeRtmuxExample(dir);
  else if (description.example === 'remoteproc') {
    for (const f of remoteprocExampleFiles(wrapper(dir, 'proxy', kernelBundlePath()))) writeFile0(join(dir, f.path), f.content, f.mode);
  } else if (description.example === 'fleet-arm64' || description.example === 'linux-only') {
    for (const f of fleetExampleFiles(description.example)) writeFile0(join(dir, f.path), f.content, f.mode);
  }
  const state = initialState(description);
  commitState(dir, state, description);
  await loadBootModules(dir, description);
  if (description.remoteproc) await startKernel(dir, options.persistent ? undefined : process.pid);
  return openSimMachine(dir);
}

/** The modules udev would have loaded at boot; the log starts after boot, so it does not show them. */
async function loadBootModules(dir: string, d: MachineDescription): Promise<void> {
  for (const name of d.bootModules ?? []) {
    let stderr = '';
    const code = await runTool('modprobe', [name], { dir, env: process.env, out: () => undefined, err: (t) => void (stderr += t) });
    if (code !== 0) throw new ProblemError(problem('HOST_SIM_BAD_DESCRIPTION', `boot module ${name} does not load: ${stderr.trim()}`, { file: paths.description(dir) }));
  }
  if (d.bootModules?.length) writeFileSync(paths.log(dir), '');
}

function writeModules(dir: string, d: MachineDescription): void {
  const deps: string[] = [];
  for (const m of d.modules) {
    const content = `\x7fELF\n${SIM_MODULE_MARK}${m.name}\n`;
    if (m.file) writeFile0(join(dir, m.file), content);
    if (m.installed) {
      writeFile0(join(dir, 'lib/modules', d.kernelRelease, 'extra', `${m.name}.ko`), content);
      deps.push(`extra/${m.name}.ko:`);
    }
  }
  writeFile0(join(dir, 'lib/modules', d.kernelRelease, 'modules.dep'), deps.map((l) => `${l}\n`).join(''));
}

function writeExample(dir: string, d: MachineDescription): void {
  const configs = encodeExampleConfigs({
    revision: d.configRevision,
    arch: d.arch,
    cpus: d.cpus,
    hypervisorMemory: { physStart: BigInt(d.hypervisorMemory.physStart), size: BigInt(d.hypervisorMemory.size) },
  });
  writeFile0(join(dir, 'etc/jailhouse/sysconfig.cell'), configs.system);
  writeFile0(join(dir, 'etc/jailhouse/nuttx.cell'), configs.nuttx);
  // What `jailhouse config create` made for this machine, before the cRTOS guide's hand edits.
  writeFile0(join(dir, 'etc/jailhouse/sysconfig-base.cell'), configs.base);
  writeFile0(join(dir, 'opt/crtos/nuttx.bin'), nuttxImage());
  writeFile0(join(dir, 'opt/crtos/apps/hello'), '\x7fELF crtos-sim application "hello"\n');
}

/** A handle on an existing machine directory. */
export function openSimMachine(dirArg: string): SimMachine {
  const dir = resolve(dirArg);
  const description = readDescription(dir);
  const binDir = join(dir, 'bin');
  const env = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  const updateFaults = async (fn: (f: SimFaultFile) => void) => {
    const f = readFaults(dir);
    fn(f);
    writeFaults(dir, f);
  };
  return {
    dir,
    description,
    binDir,
    env,
    readinessEndpoint(cell = 'nuttx') {
      const r = description.readiness.find((x) => x.cell === cell);
      return r ? { host: r.host, port: r.port } : undefined;
    },
    readLog: async () => readLogSync(dir),
    clearLog: () => writeFile(paths.log(dir), ''),
    setFaults: (faults) => updateFaults((f) => void (f.faults = faults)),
    addFault: (fault) => updateFaults((f) => void f.faults.push(fault)),
    setLatencies: (latencies) => updateFaults((f) => void (f.latencies = latencies)),
    setCellFailures: (failures) => updateFaults((f) => void (f.cellFailures = failures)),
    setTimings: (timings) =>
      updateFaults((f) => {
        if (timings === null) delete f.timings;
        else f.timings = { ...f.timings, ...timings };
      }),
    faults: async () => readFaults(dir),
    async failCell(name) {
      const cell = updateState(dir, (state) => failCellInState(state, name));
      if (!cell) throw new Error(`cell ${name} is not running on the simulated machine in ${dir}`);
      syncInmates(dir);
      appendLog(dir, { op: 'cell failed', args: [name], result: 'failed', detail: { by: 'failCell' } });
    },
    hangCell: (name) => hangInmate(dir, name),
    inmate: (name) => inmateOf(dir, name),
    async setCellState(name, cellState) {
      const changed = updateState(dir, (state) => {
        const cell = state.jailhouse.cells.find((c) => c.name === name);
        if (!cell || (cell.state !== 'running' && cell.state !== 'running/locked')) return false;
        cell.state = cellState;
        return true;
      });
      if (!changed) throw new Error(`cell ${name} is not running on the simulated machine in ${dir}`);
      appendLog(dir, { op: 'cell state', args: [name, cellState], result: 'ok', detail: { by: 'setCellState' } });
    },
    async setCellReply(name, reply) {
      const found = updateState(dir, (state) => {
        const cell = state.jailhouse.cells.find((c) => c.name === name);
        if (cell) cell.reply = reply;
        return cell !== undefined;
      });
      if (!found) throw new Error(`no cell ${name} on the simulated machine in ${dir}`);
    },
    async setCpuOnline(cpu, online) {
      updateState(dir, (state) => {
        const set = new Set(state.cpusOnline);
        if (online) set.add(cpu);
        else set.delete(cpu);
        state.cpusOnline = [...set].sort((a, b) => a - b);
      });
    },
    state: async () => readState(dir),
    run: (tool, args) =>
      new Promise((resolveRun) => {
        execFile(join(binDir, tool), args, { env }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolveRun({ code, stdout, stderr });
        });
      }),
    async runInProcess(tool, args) {
      let stdout = '';
      let stderr = '';
      const code = await runTool(tool, args, { dir, env, out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
      return { code, stdout, stderr };
    },
    async bringUp(stage) {
      const last = BRING_UP.map(([s]) => s).lastIndexOf(stage);
      for (const [, tool, args, done] of BRING_UP.slice(0, last + 1)) {
        if (done(readState(dir))) continue;
        const r = await this.runInProcess(tool, args);
        if (r.code !== 0) throw new Error(`bring-up step \`${tool} ${args.join(' ')}\` failed: ${r.stderr.trim()}`);
      }
    },
    async remoteproc() {
      const model = readModel(dir);
      if (!model) throw new Error(`the simulated machine in ${dir} has no remote processors (no remoteproc in its description)`);
      return model;
    },
    setProcessorFaults: (faults) =>
      updateFaults((f) => {
        if (faults.length === 0) delete f.processorFaults;
        else f.processorFaults = faults;
      }),
    crashProcessor: (name, type) => kernelControl(dir, { action: 'crash', processor: name, ...(type ? { crashType: type } : {}) }),
    hangProcessor: (name) => kernelControl(dir, { action: 'hang', processor: name }),
    async dispose() {
      stopInmateHost(dir);
      if (description.remoteproc) await stopKernel(dir);
    },
  };
}

/** Removes a machine directory after stopping its runners and its kernel server (no mount stays behind). */
export async function destroySimMachine(dir: string): Promise<void> {
  if (existsSync(paths.description(dir))) await openSimMachine(dir).dispose();
  for (const mountpoint of fuseMountsUnder(dir)) unmount(mountpoint, { lazy: true });
  // Stand-ins blocked by a frozen root side or a hung ioctl notice the directory going and end;
  // one may still drop a lock file meanwhile, hence the retries (ENOTEMPTY).
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
}

export async function readMachineLog(dir: string): Promise<SimLogEntry[]> {
  return readLogSync(resolve(dir));
}

