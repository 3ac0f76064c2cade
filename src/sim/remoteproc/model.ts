/**
 * The remoteproc core of the simulated kernel, pure: remote processors with the kernel's states,
 * the per-state rules of every sysfs write (mainline >= v5.19, power refcount included), firmware
 * loading, crash handling and recovery, coredumps, attach/detach of a core the bootloader
 * started, and the rpmsg channels the running firmware announces (reference/remoteproc.md §2-§9).
 *
 * The model is plain data (persisted as JSON by the kernel server). Operations mutate it and report
 * through a KernelCall: the errno a write returns, the kernel log lines it printed and the events
 * the operation log records. Everything outside (time, the firmware files, the injected faults)
 * comes in through the KernelContext, so tests drive it without a machine.
 */
import { constants } from 'node:os';
import type { ErrnoName } from '../../host/errno.js';
import type { SimProcessorFault } from '../faults.js';
import { DEFAULT_RECOVERY_MS, defaultFirmwareName, type ProcessorDescription } from './description.js';
import { isRefusal, type FirmwareImage, type FirmwareRefusal } from './firmware.js';

/** enum rproc_state as `state` prints it (reference §3). */
export type RprocState = 'offline' | 'suspended' | 'running' | 'crashed' | 'deleted' | 'attached' | 'detached' | 'invalid';
export type CoredumpMode = 'disabled' | 'enabled' | 'inline';
/** rproc_crash_names, by crash type number. */
export const CRASH_TYPES = ['mmufault', 'watchdog', 'fatal error'] as const;
export type CrashType = (typeof CRASH_TYPES)[number];

/** DEVCD_TIMEOUT: a devcoredump deletes itself after five minutes. */
export const DEVCD_TIMEOUT_MS = 5 * 60 * 1000;
/** RPMSG_RESERVED_ADDRESSES: the first address a name-service channel gets. */
export const RPMSG_FIRST_ADDRESS = 1024;
/** MAX_TTY_RPMSG. */
export const MAX_TTY_RPMSG = 32;

/** The remote core itself, whatever Linux knows of it: kept by processor name, across driver reloads. */
export interface CoreState {
  /** It executes code (started by Linux or by the bootloader) until stopped or halted by a crash. */
  executing: boolean;
  image?: FirmwareImage;
  /** Epoch ms it began executing `image`. */
  since?: number;
  /** It stopped making progress (still executing as far as anyone can tell): no heartbeat, no rpmsg replies. */
  hungAt?: number;
  /** It crashed: halted. */
  haltedAt?: number;
}

/** The virtio device of a running session: the rpmsg bus, and when the firmware's announcements come. */
export interface Vdev {
  index: number;
  announceAt: number;
  announced: boolean;
}

/** A channel the firmware announced (name service): src RPMSG_ADDR_ANY, dst its address. */
export interface RpmsgChannel {
  service: string;
  dst: number;
  /** /dev/ttyRPMSG<tty> while rpmsg_tty is bound to it. */
  tty?: number;
}

/**
 * A recovery under way, holding rproc->lock: waiting for an inline coredump to be deleted, or
 * reloading the firmware until `until`.
 */
export type Recovery = { phase: 'dump'; devcd: number } | { phase: 'reload'; until: number };

/** struct rproc: one registered remote processor (`/sys/class/remoteproc/remoteproc<index>`). */
export interface Rproc {
  name: string;
  index: number;
  state: RprocState;
  /** rproc->firmware. */
  firmware: string;
  /** rproc->power: users of the processor; boot and shutdown act on the 0/1 edge only. */
  power: number;
  recoveryDisabled: boolean;
  coredump: CoredumpMode;
  /** rproc->crash_cnt. */
  crashCount: number;
  vdev?: Vdev;
  channels: RpmsgChannel[];
  recovery?: Recovery;
}

/** A devcoredump (`/sys/class/devcoredump/devcd<id>`). */
export interface Devcoredump {
  id: number;
  /** The failing processor's name and its index at the time. */
  processor: string;
  rproc: number;
  createdAt: number;
  /** inline: recovery waits until it is deleted. */
  inline: boolean;
  /** Which crash of the processor it is, and the image that ran (the dump's content derives from both). */
  crash: number;
  image?: { sha256: string; size: number };
}

export interface RemoteprocModel {
  version: 1;
  /** Epoch ms the kernel booted (dmesg timestamps count from it). */
  bootedAt: number;
  cores: Record<string, CoreState>;
  processors: Rproc[];
  devcoredumps: Devcoredump[];
  /** The devcd counter: the next dump is devcd<devcdCount + 1>. */
  devcdCount: number;
  /** /sys/class/devcoredump/disabled (write-once). */
  devcdDisabled: boolean;
  /** rpmsg_tty is loaded (ttys for `rpmsg-tty` channels). */
  ttyDriver: boolean;
  /** The last kernel log lines, dmesg style. */
  kernelLog: string[];
}

const KERNEL_LOG_LINES = 500;

/** What the model needs from outside. */
export interface KernelContext {
  now: number;
  processors: readonly ProcessorDescription[];
  /** request_firmware and the ELF checks: the image, a refusal, or undefined when no file has the name (ENOENT). */
  requestFirmware(name: string): FirmwareImage | FirmwareRefusal | undefined;
  /** The injected processor faults in force. */
  faults: readonly SimProcessorFault[];
  /** Consumes one `times` of the first fault that matches, when it fires; undefined when none matches (any more). */
  takeFault(matches: (f: SimProcessorFault) => boolean): SimProcessorFault | undefined;
}

/** A line of the operation log the kernel wants written. */
export interface KernelEvent {
  op: string;
  args: string[];
  result: string;
  detail?: Record<string, unknown>;
}

/** One operation on the model: what it printed and what it did, for the caller to log. */
export class KernelCall {
  readonly lines: string[] = [];
  readonly events: KernelEvent[] = [];
  changed = false;
  constructor(
    readonly model: RemoteprocModel,
    readonly ctx: KernelContext,
  ) {}

  log(device: string, line: string): void {
    const entry = `${device}: ${line}`;
    this.lines.push(entry);
    const seconds = Math.max(0, this.ctx.now - this.model.bootedAt) / 1000;
    this.model.kernelLog.push(`[${seconds.toFixed(6).padStart(12)}] ${entry}`);
    if (this.model.kernelLog.length > KERNEL_LOG_LINES) this.model.kernelLog.splice(0, this.model.kernelLog.length - KERNEL_LOG_LINES);
    this.changed = true;
  }

  event(e: KernelEvent): void {
    this.events.push(e);
    this.changed = true;
  }

  describe(name: string): ProcessorDescription | undefined {
    return this.ctx.processors.find((p) => p.name === name);
  }
}

const dev = (r: Rproc) => `remoteproc remoteproc${r.index}`;

export function initialModel(processors: readonly ProcessorDescription[], now: number, readImage: (path: string) => FirmwareImage | undefined): RemoteprocModel {
  const cores: Record<string, CoreState> = {};
  for (const p of processors) {
    const image = p.runningAtBoot ? readImage(p.runningAtBoot.image) : undefined;
    cores[p.name] = p.runningAtBoot ? { executing: true, ...(image ? { image } : {}), since: now } : { executing: false };
  }
  return { version: 1, bootedAt: now, cores, processors: [], devcoredumps: [], devcdCount: 0, devcdDisabled: false, ttyDriver: false, kernelLog: [] };
}

export function coreOf(model: RemoteprocModel, name: string): CoreState {
  return (model.cores[name] ??= { executing: false });
}

/** Making progress: executing, neither hung nor halted. */
export function coreAlive(core: CoreState): boolean {
  return core.executing && core.hungAt === undefined && core.haltedAt === undefined;
}

export function processorByIndex(model: RemoteprocModel, index: number): Rproc | undefined {
  return model.processors.find((r) => r.index === index);
}

export function processorByName(model: RemoteprocModel, name: string): Rproc | undefined {
  return model.processors.find((r) => r.name === name);
}

/** The bus device name of a channel (rpmsg_register_device: `<parent>.<service>.<src>.<dst>`, %d). */
export function channelDevice(vdev: Vdev, c: RpmsgChannel): string {
  return `virtio${vdev.index}.${c.service}.-1.${c.dst}`;
}

/** The errno's number (Linux's, as the kernel log prints it negated). */
export function errnoNumber(errno: ErrnoName): number {
  return constants.errno[errno];
}

/** sysfs_streq: equal but for one trailing newline on either side. */
export function sysfsStreq(a: string, b: string): boolean {
  const strip = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s);
  return strip(a) === strip(b);
}

function lowestFree(used: Iterable<number>, limit = Infinity): number | undefined {
  const taken = new Set(used);
  for (let i = 0; i < limit; i++) if (!taken.has(i)) return i;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Drivers: processors exist while their platform driver is loaded; rpmsg_tty binds tty channels.

/**
 * Brings the registered processors in line with the loaded modules: a driver that appeared
 * registers its processors (rproc_add: detached when the core already runs, then auto-boot), one
 * that went deletes them (rproc_del: shut down first). rpmsg_tty binds or unbinds every tty channel.
 */
export function syncDrivers(k: KernelCall, loaded: ReadonlySet<string>, ttyDriver: boolean): void {
  const m = k.model;
  for (const r of [...m.processors]) {
    const d = k.describe(r.name);
    if (!d || !loaded.has(d.driver)) deleteProcessor(k, r);
  }
  for (const d of k.ctx.processors) {
    if (!loaded.has(d.driver) || processorByName(m, d.name)) continue;
    addProcessor(k, d);
  }
  if (m.ttyDriver !== ttyDriver) {
    m.ttyDriver = ttyDriver;
    k.changed = true;
  }
  bindTtys(k);
}

function addProcessor(k: KernelCall, d: ProcessorDescription): void {
  const m = k.model;
  const index = lowestFree(m.processors.map((r) => r.index)) ?? 0;
  const core = coreOf(m, d.name);
  const r: Rproc = {
    name: d.name,
    index,
    state: core.executing ? 'detached' : 'offline',
    firmware: defaultFirmwareName(d),
    power: 0,
    recoveryDisabled: d.recoveryDisabled === true,
    coredump: 'disabled',
    crashCount: 0,
    channels: [],
  };
  m.processors.push(r);
  m.processors.sort((a, b) => a.index - b.index);
  k.log(dev(r), `${d.name} is available`);
  k.event({ op: 'remoteproc add', args: [d.name], result: r.state, detail: { index } });
  if (d.autoBoot) {
    const errno = rprocBoot(k, r);
    k.event({ op: 'remoteproc auto-boot', args: [d.name], result: errno ?? 'ok', detail: { state: r.state } });
  }
}

function deleteProcessor(k: KernelCall, r: Rproc): void {
  // rproc_del shuts the processor down once, whatever its power count, then deletes it.
  if (r.state === 'running' || r.state === 'attached') {
    r.power = Math.min(r.power, 1);
    rprocShutdown(k, r);
  }
  r.state = 'deleted';
  stopVdev(k, r);
  k.model.processors = k.model.processors.filter((x) => x !== r);
  k.event({ op: 'remoteproc del', args: [r.name], result: 'ok', detail: { index: r.index } });
}

/** Gives every `rpmsg-tty` channel a tty (lowest free 0..31) while rpmsg_tty is loaded; none otherwise. */
function bindTtys(k: KernelCall): void {
  const m = k.model;
  const channels = m.processors.flatMap((r) => r.channels);
  for (const c of channels) {
    if (c.service !== 'rpmsg-tty' || m.ttyDriver || c.tty === undefined) continue;
    delete c.tty;
    k.changed = true;
  }
  if (!m.ttyDriver) return;
  for (const c of channels) {
    if (c.service !== 'rpmsg-tty' || c.tty !== undefined) continue;
    const tty = lowestFree(channels.flatMap((x) => (x.tty === undefined ? [] : [x.tty])), MAX_TTY_RPMSG);
    if (tty === undefined) continue;
    c.tty = tty;
    k.changed = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Boot, shutdown, attach, detach (rproc_boot, rproc_shutdown, rproc_detach).

/** rproc_boot: power up from offline, attach from detached; a no-op (0) when already powered. */
export function rprocBoot(k: KernelCall, r: Rproc): ErrnoName | undefined {
  if (r.state === 'deleted') return 'ENODEV';
  r.power += 1;
  k.changed = true;
  if (r.power > 1) return undefined;
  const errno = r.state === 'detached' ? attach(k, r) : powerUp(k, r);
  if (errno) r.power -= 1;
  return errno;
}

function attach(k: KernelCall, r: Rproc): ErrnoName | undefined {
  k.log(dev(r), `attaching to ${r.name}`);
  const core = coreOf(k.model, r.name);
  r.state = 'attached';
  startVdev(k, r, Math.max(k.ctx.now, (core.since ?? k.ctx.now) + (core.image?.bootMs ?? 0)));
  k.log(dev(r), `remote processor ${r.name} is now attached`);
  return undefined;
}

function powerUp(k: KernelCall, r: Rproc): ErrnoName | undefined {
  k.log(dev(r), `powering up ${r.name}`);
  const loaded = loadFirmware(k, r);
  if (typeof loaded === 'string') return loaded;
  k.log(dev(r), `Booting fw image ${r.firmware}, size ${loaded.size}`);
  startCore(k, r, loaded);
  k.log(dev(r), `remote processor ${r.name} is now up`);
  return undefined;
}

/** request_firmware and the checks before loading: the image, or the errno (logged as the kernel does). */
function loadFirmware(k: KernelCall, r: Rproc): FirmwareImage | ErrnoName {
  const found = k.ctx.requestFirmware(r.firmware);
  if (found === undefined) {
    k.log(dev(r), 'request_firmware failed: -2');
    return 'ENOENT';
  }
  if (isRefusal(found)) {
    k.log(dev(r), found.line);
    return found.errno;
  }
  const fault = k.ctx.takeFault((f) => f.processor === r.name && f.kind === 'boot-fail');
  if (fault) {
    k.log(dev(r), 'No loadable segments');
    k.event({ op: 'remoteproc boot failed', args: [r.name], result: 'EINVAL', detail: { fault } });
    return 'EINVAL';
  }
  return found;
}

function startCore(k: KernelCall, r: Rproc, image: FirmwareImage): void {
  k.model.cores[r.name] = { executing: true, image, since: k.ctx.now };
  r.state = 'running';
  startVdev(k, r, k.ctx.now + image.bootMs);
}

/** rproc_shutdown: stops a running or attached processor when the last user lets go. */
export function rprocShutdown(k: KernelCall, r: Rproc): ErrnoName | undefined {
  if (r.state !== 'running' && r.state !== 'attached') return 'EINVAL';
  r.power -= 1;
  k.changed = true;
  if (r.power > 0) return undefined;
  const errno = rprocStop(k, r);
  if (errno) r.power += 1;
  return errno;
}

/** rproc_stop: subdevices go, the core is powered off, the state is offline. */
function rprocStop(k: KernelCall, r: Rproc): ErrnoName | undefined {
  if (k.describe(r.name)?.canStop === false) return 'EINVAL';
  stopVdev(k, r);
  const core = coreOf(k.model, r.name);
  core.executing = false;
  r.state = 'offline';
  k.log(dev(r), `stopped remote processor ${r.name}`);
  return undefined;
}

/** rproc_detach: lets go of an attached processor; the core goes on running. */
export function rprocDetach(k: KernelCall, r: Rproc): ErrnoName | undefined {
  if (r.state !== 'attached') return 'EINVAL';
  r.power -= 1;
  k.changed = true;
  if (r.power > 0) return undefined;
  if (k.describe(r.name)?.canDetach !== true) {
    r.power += 1;
    return 'EINVAL';
  }
  stopVdev(k, r);
  r.state = 'detached';
  k.log(dev(r), `detached remote processor ${r.name}`);
  return undefined;
}

function startVdev(k: KernelCall, r: Rproc, announceAt: number): void {
  const used = k.model.processors.flatMap((x) => (x.vdev ? [x.vdev.index] : []));
  r.vdev = { index: lowestFree(used) ?? 0, announceAt, announced: false };
  r.channels = [];
  k.changed = true;
}

/** The virtio device goes, and with it every channel and tty (rproc_stop_subdevices). */
function stopVdev(k: KernelCall, r: Rproc): void {
  if (!r.vdev && r.channels.length === 0) return;
  delete r.vdev;
  r.channels = [];
  k.changed = true;
}

/** The firmware's name-service announcements, once it has booted (and is not hung or halted). */
function announce(k: KernelCall, r: Rproc): void {
  const vdev = r.vdev;
  const core = coreOf(k.model, r.name);
  if (!vdev || vdev.announced || !coreAlive(core)) return;
  vdev.announced = true;
  (core.image?.services ?? []).forEach((service, i) => {
    const dst = RPMSG_FIRST_ADDRESS + i;
    r.channels.push({ service, dst });
    k.log(`virtio_rpmsg_bus virtio${vdev.index}`, `creating channel ${service} addr 0x${dst.toString(16)}`);
  });
  bindTtys(k);
  k.event({ op: 'rpmsg announce', args: [r.name], result: 'ok', detail: { channels: r.channels.map((c) => channelDevice(vdev, c)) } });
}

// ---------------------------------------------------------------------------------------------
// Attribute writes (remoteproc_sysfs.c, rproc_set_firmware).

/** `firmware` store: only while offline; the name is the text up to the first newline. */
export function setFirmware(k: KernelCall, r: Rproc, value: string): ErrnoName | undefined {
  if (r.state !== 'offline') {
    k.log(dev(r), "can't change firmware while running");
    return 'EBUSY';
  }
  const name = value.split('\n')[0] ?? '';
  if (name === '') {
    k.log(dev(r), "can't provide empty string for firmware name");
    return 'EINVAL';
  }
  r.firmware = name;
  k.changed = true;
  return undefined;
}

/** `state` store: start, stop or detach; anything else is EINVAL. */
export function writeState(k: KernelCall, r: Rproc, value: string): ErrnoName | undefined {
  if (sysfsStreq(value, 'start')) {
    const errno = rprocBoot(k, r);
    if (errno) k.log(dev(r), `Boot failed: ${-errnoNumber(errno)}`);
    return errno;
  }
  if (sysfsStreq(value, 'stop')) return rprocShutdown(k, r);
  if (sysfsStreq(value, 'detach')) return rprocDetach(k, r);
  k.log(dev(r), `Unrecognised option: ${value}`);
  return 'EINVAL';
}

export const RECOVERY_WORDS = ['enabled', 'disabled', 'recover'] as const;
export type RecoveryWord = (typeof RECOVERY_WORDS)[number];

/** `recovery` store: enabled (and recover if crashed), disabled, recover; the write succeeds even when the recovery fails. */
export function writeRecovery(k: KernelCall, r: Rproc, value: string): ErrnoName | undefined {
  const word = RECOVERY_WORDS.find((w) => sysfsStreq(value, w));
  if (!word) return 'EINVAL';
  applyRecoveryWord(k, r, word);
  return undefined;
}

/** What the recovery switch does with each word (the sysfs and the debugfs file alike). */
export function applyRecoveryWord(k: KernelCall, r: Rproc, word: RecoveryWord): void {
  if (word !== 'recover') {
    r.recoveryDisabled = word === 'disabled';
    k.changed = true;
  }
  if (word !== 'disabled') triggerRecovery(k, r);
}

/** `coredump` store: refused while crashed. */
export function writeCoredump(k: KernelCall, r: Rproc, value: string): ErrnoName | undefined {
  if (r.state === 'crashed') {
    k.log(dev(r), "can't change coredump configuration");
    return 'EBUSY';
  }
  const mode = (['disabled', 'enabled', 'inline'] as const).find((w) => sysfsStreq(value, w));
  if (!mode) {
    k.log(dev(r), 'Invalid coredump configuration');
    return 'EINVAL';
  }
  r.coredump = mode;
  k.changed = true;
  return undefined;
}

/** Writes that take rproc->lock, so they wait while a recovery holds it. */
export function takesLock(attribute: string, value: string): boolean {
  if (attribute === 'state' || attribute === 'firmware') return true;
  return attribute === 'recovery' && !sysfsStreq(value, 'disabled');
}

/** A recovery holds rproc->lock. */
export function isLocked(r: Rproc): boolean {
  return r.recovery !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Crash, recovery, coredump (rproc_report_crash, rproc_crash_handler_work, rproc_trigger_recovery).

/**
 * rproc_report_crash and its handler: the first crash of a running session is handled; recovery
 * follows unless disabled. Only a processor Linux runs (running, attached) is handled: its driver's
 * interrupts are what report crashes, and a report for a detached one would leave the power count
 * below zero after the recovery.
 */
export function reportCrash(k: KernelCall, r: Rproc, type: string, by: string): boolean {
  k.log(dev(r), `crash detected in ${r.name}: type ${type}`);
  if ((r.state !== 'running' && r.state !== 'attached') || isLocked(r)) return false;
  const core = coreOf(k.model, r.name);
  core.haltedAt = k.ctx.now;
  r.state = 'crashed';
  r.crashCount += 1;
  k.log(dev(r), `handling crash #${r.crashCount} in ${r.name}`);
  k.event({ op: 'remoteproc crash', args: [r.name], result: 'crashed', detail: { type, by, crash: r.crashCount, recovery: r.recoveryDisabled ? 'disabled' : 'enabled' } });
  if (!r.recoveryDisabled) triggerRecovery(k, r);
  return true;
}

/** rproc_trigger_recovery: only from crashed. Stops the processor, dumps it, then reloads it (after recoveryMs). */
export function triggerRecovery(k: KernelCall, r: Rproc): void {
  if (r.state !== 'crashed' || isLocked(r)) return;
  k.log(dev(r), `recovering ${r.name}`);
  const d = k.describe(r.name);
  if (d?.attachOnRecovery) {
    recoverByAttach(k, r, d);
    return;
  }
  const errno = rprocStop(k, r);
  if (errno) {
    k.event({ op: 'remoteproc recovery', args: [r.name], result: errno, detail: { why: 'the driver cannot stop it' } });
    return;
  }
  const dump = coredump(k, r);
  if (dump?.inline) r.recovery = { phase: 'dump', devcd: dump.id };
  else r.recovery = { phase: 'reload', until: k.ctx.now + (d?.recoveryMs ?? DEFAULT_RECOVERY_MS) };
  k.changed = true;
}

/** RPROC_FEAT_ATTACH_ON_RECOVERY: detach, then attach to the core, which restarted its firmware by itself. */
function recoverByAttach(k: KernelCall, r: Rproc, d: ProcessorDescription): void {
  if (d.canDetach !== true) {
    k.event({ op: 'remoteproc recovery', args: [r.name], result: 'EINVAL', detail: { why: 'the driver cannot detach it' } });
    return;
  }
  stopVdev(k, r);
  const core = coreOf(k.model, r.name);
  k.model.cores[r.name] = { executing: true, ...(core.image ? { image: core.image } : {}), since: k.ctx.now };
  r.state = 'detached';
  attach(k, r);
  k.event({ op: 'remoteproc recovery', args: [r.name], result: 'ok', detail: { state: r.state } });
}

/** The reload half of a recovery: request_firmware and rproc_start; a failure leaves the processor offline (power unchanged). */
function completeRecovery(k: KernelCall, r: Rproc): void {
  delete r.recovery;
  k.changed = true;
  const loaded = loadFirmware(k, r);
  if (typeof loaded === 'string') {
    k.event({ op: 'remoteproc recovery', args: [r.name], result: loaded, detail: { state: r.state, power: r.power } });
    return;
  }
  startCore(k, r, loaded);
  k.log(dev(r), `remote processor ${r.name} is now up`);
  k.event({ op: 'remoteproc recovery', args: [r.name], result: 'ok', detail: { state: r.state } });
}

/** rproc_coredump through devcoredump: nothing when disabled, dropped while the processor has an undeleted dump. */
function coredump(k: KernelCall, r: Rproc): Devcoredump | undefined {
  const m = k.model;
  if (r.coredump === 'disabled' || m.devcdDisabled) return undefined;
  if (m.devcoredumps.some((d) => d.processor === r.name)) {
    k.event({ op: 'remoteproc coredump', args: [r.name], result: 'dropped', detail: { why: 'the last dump of this processor is not deleted yet' } });
    return undefined;
  }
  const image = coreOf(m, r.name).image;
  m.devcdCount += 1;
  const dump: Devcoredump = { id: m.devcdCount, processor: r.name, rproc: r.index, createdAt: k.ctx.now, inline: r.coredump === 'inline', crash: r.crashCount, ...(image ? { image: { sha256: image.sha256, size: image.size } } : {}) };
  m.devcoredumps.push(dump);
  k.event({ op: 'remoteproc coredump', args: [r.name], result: 'ok', detail: { devcd: `devcd${dump.id}`, mode: r.coredump } });
  return dump;
}

/** Writing to a dump's `data` (or its timeout) deletes it; a recovery waiting for it goes on. */
export function deleteDevcoredump(k: KernelCall, id: number): void {
  const m = k.model;
  if (!m.devcoredumps.some((d) => d.id === id)) return;
  m.devcoredumps = m.devcoredumps.filter((d) => d.id !== id);
  k.changed = true;
  for (const r of m.processors) {
    if (r.recovery?.phase === 'dump' && r.recovery.devcd === id) {
      r.recovery = { phase: 'reload', until: k.ctx.now + (k.describe(r.name)?.recoveryMs ?? DEFAULT_RECOVERY_MS) };
    }
  }
}

/** The firmware stops making progress: still `running`, but no heartbeat and no rpmsg replies. */
export function hangCore(k: KernelCall, name: string, by: string): boolean {
  const core = coreOf(k.model, name);
  if (!coreAlive(core)) return false;
  core.hungAt = k.ctx.now;
  k.event({ op: 'remoteproc hang', args: [name], result: 'hung', detail: { by } });
  return true;
}

// ---------------------------------------------------------------------------------------------
// Time: announcements, injected crashes and hangs, recoveries and dump timeouts fall due.

type Due = { at: number; apply(): void };

function dueItems(k: KernelCall): Due[] {
  const m = k.model;
  const items: Due[] = [];
  for (const r of m.processors) {
    const core = coreOf(m, r.name);
    if (r.vdev && !r.vdev.announced && coreAlive(core) && (r.state === 'running' || r.state === 'attached')) {
      items.push({ at: r.vdev.announceAt, apply: () => announce(k, r) });
    }
    if (r.recovery?.phase === 'reload') items.push({ at: r.recovery.until, apply: () => completeRecovery(k, r) });
    if ((r.state === 'running' || r.state === 'attached') && coreAlive(core) && !isLocked(r)) {
      for (const f of k.ctx.faults) {
        if (f.processor !== r.name || f.kind === 'boot-fail') continue;
        items.push({ at: (core.since ?? k.ctx.now) + (f.afterMs ?? 0), apply: () => fireFault(k, r, f) });
      }
    }
  }
  for (const d of m.devcoredumps) items.push({ at: d.createdAt + DEVCD_TIMEOUT_MS, apply: () => deleteDevcoredump(k, d.id) });
  return items;
}

function fireFault(k: KernelCall, r: Rproc, f: SimProcessorFault): void {
  const core = coreOf(k.model, r.name);
  const since = core.since ?? k.ctx.now;
  const taken = k.ctx.takeFault((x) => x.processor === r.name && x.kind === f.kind && (x.afterMs ?? 0) === (f.afterMs ?? 0) && k.ctx.now >= since + (x.afterMs ?? 0));
  if (!taken) return;
  if (taken.kind === 'hang') hangCore(k, r.name, 'fault');
  else reportCrash(k, r, taken.crashType ?? 'watchdog', 'fault');
}

/** The earliest time something falls due, or undefined when nothing will without an outside event. */
export function nextDeadline(k: KernelCall): number | undefined {
  const times = dueItems(k).map((d) => d.at);
  return times.length === 0 ? undefined : Math.min(...times);
}

/** Applies everything due by now, earliest first (one item can make or cancel others). */
export function advance(k: KernelCall): void {
  for (let guard = 0; guard < 1000; guard++) {
    const due = dueItems(k)
      .filter((d) => d.at <= k.ctx.now)
      .sort((a, b) => a.at - b.at)[0];
    if (!due) return;
    const before = JSON.stringify(k.model);
    due.apply();
    // A fault that another process took meanwhile changes nothing: stop rather than spin.
    if (JSON.stringify(k.model) === before) return;
  }
}
