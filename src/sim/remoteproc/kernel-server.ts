/**
 * The simulated kernel of a remoteproc machine: one Node process per machine that holds the
 * remoteproc model (model.ts), persists it to DIR/.sim/remoteproc.json after every change, and
 * answers the file operations of the FUSE bridges (one per sysfs mount, fuse_bridge.py) over a
 * UNIX socket. It also does what happens in the kernel without anyone asking: auto-boot when a
 * driver loads, the firmware's announcements, injected crashes and hangs, recoveries, dump
 * timeouts; and it serves /dev/ttyRPMSG<k> (UNIX sockets) where the firmware's rpmsg tty answers.
 *
 * It stops (unmounting everything first) on SIGTERM, on a `shutdown` request, when the process
 * that owns the machine exits (tests), or when the machine directory goes away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ErrnoName } from '../../host/errno.js';
import type { MachineDescription } from '../description.js';
import { readFaults, takeProcessorFault } from '../faults.js';
import { appendLog, paths, readDescription, readState, writeAtomic, type SimLogEntry } from '../store.js';
import type { RemoteprocDescription } from './description.js';
import { bridgePython, bridgeScriptPath, kernelPaths, readModel, type KernelReply, type KernelRequest } from './files.js';
import { findFirmware, firmwareSearchPath, isRefusal, parseFirmware, type FirmwareImage, type FirmwareRefusal } from './firmware.js';
import { KernelCall, advance, coreAlive, coreOf, hangCore, initialModel, nextDeadline, processorByName, reportCrash, syncDrivers, type KernelContext, type RemoteprocModel } from './model.js';
import { MAX_STORE, SYSFS_MOUNTS, attrOf, fileContent, listDirectory, openError, opensForWriting, sliceAt, sysfsTree, writeFile, writeWaitsForLock } from './sysfs.js';
import { unmount } from './mounts.js';
import { processStart } from './processes.js';

/** How long the bridges may take to mount. */
const MOUNT_TIMEOUT_MS = 15_000;
/** A backstop for changes no watch reported (faults.json edited in place, a missed rename). */
const IDLE_TICK_MS = 1000;
const OWNER_POLL_MS = 500;

interface Bridge {
  mount: string;
  child: ChildProcess;
  stderr: string;
  hello?: () => void;
  exited: Promise<void>;
}

interface Tty {
  server: Server;
  sockets: Set<Socket>;
}

class KernelServer {
  private readonly description: MachineDescription;
  private readonly remoteproc: RemoteprocDescription;
  private readonly model: RemoteprocModel;
  private readonly searchPath: string[];
  private modulesStamp = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly ttys = new Map<number, Tty>();
  private readonly deferred = new Map<string, (() => void)[]>();
  /** Open files: what a read from offset 0 gave, so the reads after it see the same text (kernfs's seq_file). */
  private readonly handles = new Map<number, Uint8Array | ErrnoName | undefined>();
  private nextHandle = 1;
  private draining = false;
  private readonly bridges: Bridge[] = [];
  private readonly watchers: FSWatcher[] = [];
  private socketServer: Server | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly dir: string) {
    this.description = readDescription(dir);
    this.remoteproc = this.description.remoteproc ?? { processors: [] };
    this.searchPath = firmwareSearchPath(this.description.kernelRelease, this.remoteproc.firmwareClassPath || undefined);
    this.model = readModel(dir) ?? initialModel(this.remoteproc.processors, Date.now(), (path) => this.readImage(path));
  }

  log(text: string): void {
    appendFileSync(kernelPaths.log(this.dir), `${new Date().toISOString()} ${text}\n`);
  }

  // -------------------------------------------------------------------------------------------
  // The model's context: time, firmware files, faults.

  private machineFile(machinePath: string): string {
    return join(this.dir, machinePath);
  }

  private readImage(machinePath: string): FirmwareImage | undefined {
    try {
      const parsed = parseFirmware(readFileSync(this.machineFile(machinePath)), machinePath);
      return isRefusal(parsed) ? undefined : parsed;
    } catch {
      return undefined;
    }
  }

  private requestFirmware(name: string): FirmwareImage | FirmwareRefusal | undefined {
    const isFile = (p: string) => {
      try {
        return statSync(this.machineFile(p)).isFile();
      } catch {
        return false;
      }
    };
    const found = findFirmware(name, this.searchPath, isFile);
    return found === undefined ? undefined : parseFirmware(readFileSync(this.machineFile(found)), found);
  }

  private call(): KernelCall {
    const ctx: KernelContext = {
      now: Date.now(),
      processors: this.remoteproc.processors,
      requestFirmware: (name) => this.requestFirmware(name),
      faults: readFaults(this.dir).processorFaults ?? [],
      takeFault: (matches) => takeProcessorFault(this.dir, matches),
    };
    return new KernelCall(this.model, ctx);
  }

  /** The loaded modules (state.json, written by the stand-in kmod tools) decide which processors exist. */
  private refreshDrivers(k: KernelCall): void {
    let stamp: string;
    try {
      const s = statSync(paths.state(this.dir));
      stamp = `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch {
      return;
    }
    if (stamp === this.modulesStamp) return;
    this.modulesStamp = stamp;
    const loaded = new Set(readState(this.dir).modules.map((m) => m.name));
    const ttyDriver = this.description.modules.some((m) => m.effect === 'rpmsg-tty' && loaded.has(m.name));
    syncDrivers(k, loaded, ttyDriver);
  }

  /** A fresh call with the drivers and the clock brought up to date, as every operation starts. */
  private current(): KernelCall {
    const k = this.call();
    this.refreshDrivers(k);
    advance(k);
    return k;
  }

  /** After an operation: its log lines, the ttys, the model on disk, waiting writes, the next deadline. */
  private commit(k: KernelCall, last?: Omit<SimLogEntry, 'time'>): void {
    for (const e of k.events) appendLog(this.dir, { op: e.op, args: e.args, result: e.result, ...(e.detail ? { detail: e.detail } : {}) });
    if (last) appendLog(this.dir, last);
    if (k.changed) {
      this.reconcileTtys();
      writeAtomic(kernelPaths.model(this.dir), JSON.stringify(this.model));
    }
    this.drainDeferred();
    this.schedule();
  }

  private tick(): void {
    if (this.stopping) return;
    this.commit(this.current());
  }

  private schedule(): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    const k = this.call();
    const deadline = nextDeadline(k);
    const delay = deadline === undefined ? IDLE_TICK_MS : Math.min(IDLE_TICK_MS, Math.max(0, deadline - k.ctx.now));
    this.timer = setTimeout(() => this.tick(), delay);
  }

  // -------------------------------------------------------------------------------------------
  // File operations from the bridges, control requests from SimMachine.

  async handle(req: KernelRequest): Promise<KernelReply> {
    if (req.op === 'hello') {
      this.bridges.find((b) => b.mount === req.path)?.hello?.();
      return {};
    }
    if (req.op === 'control') return this.control(req);
    const path = req.path ?? '';
    if (req.op === 'write') return this.write(req, path);
    const k = this.current();
    const node = sysfsTree(this.model, k.ctx.now).get(path);
    let reply: KernelReply;
    let last: Omit<SimLogEntry, 'time'> | undefined;
    switch (req.op) {
      case 'getattr':
        reply = node ? { attr: attrOf(node) } : { errno: 'ENOENT' };
        break;
      case 'readdir': {
        const entries = listDirectory(sysfsTree(this.model, k.ctx.now), path);
        reply = entries ? { entries } : { errno: node ? 'ENOTDIR' : 'ENOENT' };
        break;
      }
      case 'readlink':
        reply = node?.kind === 'link' ? { target: node.target } : { errno: node ? 'EINVAL' : 'ENOENT' };
        break;
      case 'open': {
        const errno = openError(node, req.flags ?? 0);
        reply = errno ? { errno } : { fh: this.nextHandle };
        if (!errno) this.handles.set(this.nextHandle++, undefined);
        // A write refused before it reaches the attribute (a read-only one) is still a write crtosd tried.
        if (errno && opensForWriting(req.flags ?? 0)) last = { op: 'sysfs write', args: [path, ''], result: errno, detail: { pid: req.pid, refusedAt: 'open' } };
        break;
      }
      case 'read': {
        // The text is made at the read from offset 0 and kept for the reads after it on the same handle.
        const offset = req.offset ?? 0;
        const held = req.fh === undefined ? undefined : this.handles.get(req.fh);
        const content = offset === 0 || held === undefined ? fileContent(node) : held;
        if (req.fh !== undefined && this.handles.has(req.fh)) this.handles.set(req.fh, content);
        reply = typeof content === 'string' ? { errno: content } : { data: Buffer.from(sliceAt(content, req.size ?? 4096, offset)).toString('base64') };
        break;
      }
      case 'release':
        if (req.fh !== undefined) this.handles.delete(req.fh);
        reply = {};
        break;
      case 'truncate':
        // O_TRUNC on an attribute: kernfs lets it be, for those it would let you write.
        reply = node?.kind === 'file' && node.write ? {} : { errno: node ? 'EACCES' : 'ENOENT' };
        break;
      case 'create':
        reply = { errno: 'EACCES' };
        break;
      default:
        reply = { errno: 'EPERM' };
    }
    this.commit(k, last);
    return reply;
  }

  /** A store: waits while a recovery holds rproc->lock, as the kernel's would. */
  private write(req: KernelRequest, path: string): Promise<KernelReply> {
    const bytes = Buffer.from(req.data ?? '', 'base64').subarray(0, MAX_STORE);
    const value = bytes.toString('utf8');
    const k = this.current();
    const holder = writeWaitsForLock(sysfsTree(this.model, k.ctx.now).get(path), value);
    this.commit(k);
    if (!holder) return Promise.resolve(this.store(req, path, value, bytes.length));
    // Said before it waits, so a test (or a backend's) can see the write blocked on the lock.
    appendLog(this.dir, { op: 'sysfs write waiting', args: [path, value], result: 'locked', detail: { pid: req.pid, processor: holder.name, recovery: holder.recovery?.phase } });
    return new Promise((resolve) => {
      const queue = this.deferred.get(holder.name) ?? [];
      queue.push(() => resolve(this.store(req, path, value, bytes.length)));
      this.deferred.set(holder.name, queue);
    });
  }

  private store(req: KernelRequest, path: string, value: string, length: number): KernelReply {
    if (this.stopping) return { errno: 'ENODEV' };
    const k = this.current();
    const node = sysfsTree(this.model, k.ctx.now).get(path);
    const processor = node?.kind === 'file' ? node.owner?.processor.name : undefined;
    const errno = writeFile(k, node, value);
    const detail: Record<string, unknown> = { pid: req.pid };
    if (processor) detail.processor = processor;
    if (k.lines.length > 0) detail.kernelLog = k.lines;
    this.commit(k, { op: 'sysfs write', args: [path, value], result: errno ?? 'ok', detail });
    return errno ? { errno } : { written: length };
  }

  /** Runs the writes that waited for a processor whose recovery is over (in order; one may lock it again). */
  private drainDeferred(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (const [name, queue] of this.deferred) {
        while (queue.length > 0) {
          const r = processorByName(this.model, name);
          if (r?.recovery) break;
          queue.shift()?.();
        }
        if (queue.length === 0) this.deferred.delete(name);
      }
    } finally {
      this.draining = false;
    }
  }

  private control(req: KernelRequest): KernelReply {
    if (req.action === 'ping') return {};
    if (req.action === 'shutdown') {
      // Answer first; the connection closes when the process exits, which the caller waits for.
      setImmediate(() => void this.shutdown('shutdown requested').then(() => process.exit(0)));
      return {};
    }
    const name = req.processor ?? '';
    const k = this.current();
    const r = processorByName(this.model, name);
    let reply: KernelReply = {};
    if (req.action === 'crash') {
      if (!r) reply = { errno: 'ENODEV', message: `no remote processor ${name} is registered (is its driver loaded?)` };
      else if (!reportCrash(k, r, req.crashType ?? 'watchdog', 'crashProcessor')) reply = { errno: 'EINVAL', message: `${name} is ${r.state}: the kernel ignores a crash report now` };
    } else if (req.action === 'hang') {
      if (!hangCore(k, name, 'hangProcessor')) reply = { errno: 'EINVAL', message: `the core of ${name} is not running (or already hung)` };
    } else reply = { errno: 'EINVAL', message: `unknown control action ${JSON.stringify(req.action)}` };
    this.commit(k);
    return reply;
  }

  // -------------------------------------------------------------------------------------------
  // /dev/ttyRPMSG<k>: the firmware end of each rpmsg tty channel.

  private reconcileTtys(): void {
    const wanted = new Set<number>();
    for (const r of this.model.processors) for (const c of r.channels) if (c.tty !== undefined) wanted.add(c.tty);
    for (const [tty, t] of this.ttys) {
      if (wanted.has(tty)) continue;
      // The device goes: whoever has it open sees a hangup.
      for (const s of t.sockets) s.destroy();
      t.server.close();
      rmSync(kernelPaths.tty(this.dir, tty), { force: true });
      this.ttys.delete(tty);
    }
    for (const tty of wanted) if (!this.ttys.has(tty)) this.openTty(tty);
  }

  private openTty(tty: number): void {
    const path = kernelPaths.tty(this.dir, tty);
    mkdirSync(join(this.dir, 'dev'), { recursive: true });
    rmSync(path, { force: true });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let pending = '';
      socket.on('data', (chunk) => {
        // A hung or halted firmware reads nothing and answers nothing.
        if (!this.ttyAlive(tty)) return;
        pending += chunk.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).replace(/\r$/, '');
          pending = pending.slice(nl + 1);
          socket.write(line.trim() === 'ping' ? 'pong\n' : `${line}\n`);
        }
      });
    });
    server.on('error', (e) => this.log(`ttyRPMSG${tty}: ${e.message}`));
    // Bound synchronously: the node exists once the model that names it is written.
    server.listen(path);
    this.ttys.set(tty, { server, sockets });
  }

  private ttyAlive(tty: number): boolean {
    const r = this.model.processors.find((x) => x.channels.some((c) => c.tty === tty));
    return r !== undefined && coreAlive(coreOf(this.model, r.name));
  }

  // -------------------------------------------------------------------------------------------
  // Start and stop.

  async start(owner: { pid: number; start: string } | undefined): Promise<void> {
    await this.listen();
    // A model kept from an earlier run of the server may have channels whose ttys need serving.
    this.reconcileTtys();
    this.commit(this.current());
    for (const mount of SYSFS_MOUNTS) this.bridges.push(this.spawnBridge(mount));
    await Promise.all(this.bridges.map((b) => this.mounted(b)));
    writeAtomic(kernelPaths.info(this.dir), JSON.stringify({ pid: process.pid, bridges: this.bridges.map((b) => ({ pid: b.child.pid, mount: b.mount })) }));
    this.watchers.push(
      watch(join(this.dir, '.sim'), { persistent: false }, (_event, name) => {
        if (name === 'state.json') this.tick();
      }),
      watch(this.dir, { persistent: false }, (_event, name) => {
        if (name === 'faults.json') this.schedule();
      }),
    );
    for (const w of this.watchers) w.on('error', () => undefined);
    const poll = setInterval(() => {
      const ownerGone = owner !== undefined && processStart(owner.pid) !== owner.start;
      if (ownerGone || !existsSync(paths.description(this.dir))) {
        clearInterval(poll);
        void this.shutdown(ownerGone ? `owner ${owner?.pid} exited` : 'machine directory gone').then(() => process.exit(0));
      }
    }, OWNER_POLL_MS);
  }

  private listen(): Promise<void> {
    const path = kernelPaths.socket(this.dir);
    rmSync(path, { force: true });
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      const lines = createInterface({ input: socket });
      lines.on('line', (line) => {
        let req: KernelRequest;
        try {
          req = JSON.parse(line) as KernelRequest;
        } catch {
          socket.write(`${JSON.stringify({ errno: 'EINVAL', message: 'not a JSON request' })}\n`);
          return;
        }
        this.handle(req).then(
          (reply) => socket.write(`${JSON.stringify(reply)}\n`),
          (e: unknown) => {
            this.log(`request ${req.op} ${req.path ?? ''} failed: ${(e as Error).stack ?? String(e)}`);
            socket.write(`${JSON.stringify({ errno: 'EIO' satisfies ErrnoName })}\n`);
          },
        );
      });
    });
    this.socketServer = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  }

  private spawnBridge(mount: string): Bridge {
    const mountpoint = join(this.dir, mount);
    mkdirSync(mountpoint, { recursive: true });
    // fd 3: a pipe the bridge reads until this process is gone (however it goes), then unmounts.
    const child = spawn(bridgePython(), [bridgeScriptPath(), kernelPaths.socket(this.dir), mountpoint, mount], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    const bridge: Bridge = { mount, child, stderr: '', exited: new Promise((resolve) => child.once('exit', () => resolve())) };
    child.on('error', (e) => (bridge.stderr += `${e.message}\n`));
    child.stderr?.on('data', (chunk: Buffer) => {
      bridge.stderr = (bridge.stderr + chunk.toString('utf8')).slice(-4000);
      this.log(`bridge ${mount}: ${chunk.toString('utf8').trimEnd()}`);
    });
    void bridge.exited.then(() => {
      if (this.stopping) return;
      // Its mount is gone or stale; a stale one would answer ENOTCONN to everyone.
      this.log(`bridge ${mount} exited (${child.exitCode ?? child.signalCode})`);
      unmount(mountpoint);
    });
    return bridge;
  }

  private mounted(b: Bridge): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the FUSE bridge for ${b.mount} did not mount within ${MOUNT_TIMEOUT_MS} ms${b.stderr ? `: ${b.stderr.trim()}` : ''}`)), MOUNT_TIMEOUT_MS);
      b.hello = () => {
        clearTimeout(timer);
        resolve();
      };
      void b.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the FUSE bridge for ${b.mount} exited before mounting (${b.child.exitCode ?? b.child.signalCode})${b.stderr ? `: ${b.stderr.trim()}` : ''}`));
      });
    });
  }

  shutdown(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log(`shutting down: ${reason}`);
      clearTimeout(this.timer);
      for (const w of this.watchers) w.close();
      // Writes waiting for a lock get what a removed device gives.
      for (const queue of this.deferred.values()) for (const run of queue.splice(0)) run();
      for (const tty of [...this.ttys.keys()]) {
        const t = this.ttys.get(tty);
        for (const s of t?.sockets ?? []) s.destroy();
        t?.server.close();
        rmSync(kernelPaths.tty(this.dir, tty), { force: true });
      }
      this.ttys.clear();
      await Promise.all(
        this.bridges.map(async (b) => {
          unmount(join(this.dir, b.mount));
          const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
          if ((await Promise.race([b.exited, timeout])) === 'timeout') {
            b.child.kill('SIGKILL');
            unmount(join(this.dir, b.mount), { lazy: true });
          }
        }),
      );
      this.socketServer?.close();
      rmSync(kernelPaths.socket(this.dir), { force: true });
      if (existsSync(join(this.dir, '.sim'))) writeAtomic(kernelPaths.model(this.dir), JSON.stringify(this.model));
      rmSync(kernelPaths.info(this.dir), { force: true });
    })();
    return this.stopping;
  }
}

/**
 * The kernel server's main: prints one JSON line on stdout once every mount is up
 * (`{"ready":true}`) or when it cannot start (`{"error": "..."}`), then keeps running.
 * `owner` (`PID:START`): stop when that process is gone.
 */
export async function runKernelServer(dir: string, ownerArg: string | undefined): Promise<number> {
  const say = (line: object) => {
    process.stdout.write(`${JSON.stringify(line)}\n`);
    process.stdout.end();
  };
  process.stdout.on('error', () => undefined);
  let server: KernelServer | undefined;
  const fail = async (e: unknown) => {
    server?.log(`fatal: ${(e as Error).stack ?? String(e)}`);
    await server?.shutdown('fatal error');
  };
  try {
    server = new KernelServer(dir);
    const [pid, start] = (ownerArg ?? '').split(':');
    const owner = ownerArg ? { pid: Number(pid), start: start ?? '' } : undefined;
    process.on('SIGTERM', () => void server?.shutdown('SIGTERM').then(() => process.exit(0)));
    process.on('SIGINT', () => void server?.shutdown('SIGINT').then(() => process.exit(0)));
    process.on('uncaughtException', (e) => void fail(e).then(() => process.exit(1)));
    await server.start(owner);
  } catch (e) {
    await fail(e);
    say({ error: (e as Error).message });
    return 1;
  }
  say({ ready: true, pid: process.pid });
  return new Promise<number>(() => undefined);
}
