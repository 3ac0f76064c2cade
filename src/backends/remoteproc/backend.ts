/**
 * remoteproc behind the backend port: Linux's remoteproc framework is the "hypervisor", each
 * remote processor a partition. What sysfs says is read in sysfs.ts; what it means is decided
 * here: which states run, what a cell's operations write (create: the recovery and coredump
 * settings; load: the firmware installed under crtosd's name and that name written; start and
 * stop to `state`), which refusals mean "already done", and when the kernel is between two states
 * (recovering a crashed processor: crtosd waits, it does not fight the recovery).
 *
 * An offline processor is no partition: nothing crtosd runs is there, and a cell's create is what
 * takes it. A processor the bootloader started (attached, or detached until `start` attaches it)
 * is adopted when its cell says `bootloader: true`, never stopped to be loaded.
 */
import type { Host } from '../../host/host.js';
import { HostError, isHostError } from '../../host/host-error.js';
import { problem } from '../../errors/problem.js';
import { unitId } from '../../kinds/spec-common.js';
import { waitFor } from '../../kinds/behaviour-common.js';
import type { UnitFacts } from '../../engine/types.js';
import { observeEnabled, type Backend, type BackendStatus, type Partition, type PartitionPhase, type PartitionPort, type Transition } from '../port.js';
import { remoteprocCellConfig, remoteprocDefinition, type RemoteprocHypervisor } from './definition.js';
import type { RemoteprocFacts } from './facts.js';
import { attributePath, CLASS, readRemoteproc, type Processor, type RemoteprocStatus } from './sysfs.js';
import { refusal } from './refusals.js';
import { INLINE_CONFIG_DIR } from '../../kinds/cell/spec.js';
import type { RpmsgFields } from './link-fields.js';

/** How long a pass waits at most for the kernel to recover a processor after a crash. */
const RECOVERY_WAIT_MS = 10_000;
const CLASS_POLL_MS = 50;
const DEVCOREDUMP = '/sys/class/devcoredump';
/** Where the dumps of crashed processors are kept (a machine path, under crtosd's state on /run). */
export const COREDUMP_DIR = '/run/crtos/coredumps';

/** The status with every processor (offline ones included), for the poll and the transition check. */
export interface RemoteprocBackendStatus extends BackendStatus {
  processors: Processor[];
  /** The kernel's crash dumps waiting to be read (devcdN), so the poll notices a new one. */
  dumps?: string[];
}

/** The phase of a processor that is a partition; offline is none (see the file comment). */
export function phaseOf(state: string): PartitionPhase {
  if (state === 'running' || state === 'attached' || state === 'suspended') return 'running';
  return state === 'detached' ? 'shut-down' : 'failed';
}

/** What people read for a state: an attached processor runs what the bootloader started, and crtosd adopts it as it is. */
export const ADOPTED = 'attached (adopted: started before Linux)';

export function toBackendStatus(status: RemoteprocStatus): RemoteprocBackendStatus {
  const partitions = status.processors
    .filter((p) => p.state !== 'offline')
    .map((p): Partition => ({ id: p.index, name: p.name, state: p.state === 'attached' ? ADOPTED : p.state, phase: phaseOf(p.state), cpus: [], failedCpus: [] }));
  return { enabled: status.present, partitions, processors: status.processors };
}

/** Each partition with the newest dump kept of its processor (PROCESSOR-TIME.core: the times sort). */
function withCoredumps(status: RemoteprocBackendStatus, kept: readonly string[]): RemoteprocBackendStatus {
  const newest = (name: string) => kept.filter((f) => f.startsWith(`${name}-`) && f.endsWith('.core')).sort().at(-1);
  return { ...status, partitions: status.partitions.map((p) => (newest(p.name) ? { ...p, coredump: `${COREDUMP_DIR}/${newest(p.name)}` } : p)) };
}

/**
 * Whether the kernel is recovering a processor crtosd runs: crashed, or offline while it reloads
 * the firmware, with recovery enabled. A pass then waits for it to run again rather than planning
 * against a processor the kernel is about to restart.
 */
export function remoteprocTransition(status: BackendStatus, runningCells: readonly string[]): Transition | undefined {
  const { processors } = status as RemoteprocBackendStatus;
  const recovering = processors?.find((p) => runningCells.includes(p.name) && p.recovery === 'enabled' && (p.state === 'crashed' || p.state === 'offline'));
  return recovering ? { why: `the kernel is recovering ${recovering.name} after a crash (recovery enabled; crtosd leaves it to the kernel)`, waitMs: RECOVERY_WAIT_MS, recovering: recovering.name } : undefined;
}

/** The cheap poll: any processor's state, or the crash dumps waiting, differing from what the last pass saw. */
async function changed(host: Host, seen: BackendStatus): Promise<boolean> {
  const now = { ...toBackendStatus(await readRemoteproc(host)), dumps: await pendingDumps(host) };
  const key = (s: RemoteprocBackendStatus) => `${s.enabled}|${(s.processors ?? []).map((p) => `${p.name}=${p.state}`).join(',')}|${(s.dumps ?? []).join(',')}`;
  return key(now) !== key(seen as RemoteprocBackendStatus);
}

/** The kernel's crash dumps not read yet (/sys/class/devcoredump/devcdN). */
async function pendingDumps(host: Host): Promise<string[]> {
  return (await host.readDir(DEVCOREDUMP).catch(() => [])).filter((e) => /^devcd\d+$/.test(e)).sort();
}

/** The processor named `name`, or a HostError with errno ENOENT naming the ones there are. */
async function processor(host: Host, name: string): Promise<Processor> {
  const status = await readRemoteproc(host);
  const found = status.processors.find((p) => p.name === name);
  if (found) return found;
  const there = status.processors.map((p) => p.name).join(', ') || 'none';
  throw new HostError({
    code: 'HOST_READ_FAILED',
    op: 'remoteproc',
    errno: 'ENOENT',
    message: `no remote processor named ${name} in ${CLASS} (there: ${there})`,
    hint: status.present ? 'correct config.processor (the name /sys/class/remoteproc/remoteprocN/name reads), or load its platform driver' : 'the kernel has no remoteproc class: load the platform driver (the Hypervisor unit\'s driver)',
  });
}

/** One write to a processor's attribute; a refusal says what it means (refusals.ts). */
async function write(host: Host, p: Processor, attribute: string, value: string): Promise<void> {
  try {
    await host.writeAttribute(attributePath(p, attribute), value);
  } catch (e) {
    throw isHostError(e) ? refusal(e, attribute, value, p) : e;
  }
}

/** A cell's operations need what its description recorded; without it (a record from before) they cannot run. */
function settingsOf(facts: UnitFacts | undefined, name: string): RemoteprocFacts {
  if (facts?.remoteproc) return facts.remoteproc;
  throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'remoteproc', message: `the settings of processor ${name} are unknown (its cell was described without them)`, hint: 'reload crtosd (`crtosctl daemon-reload`) so the cell is described again' });
}

/**
 * The kernel's dumps of processor `p` (/sys/class/devcoredump/devcdN whose failing_device is it),
 * each copied to COREDUMP_DIR as PROCESSOR-TIME.core (the Cell's status names the newest) and then deleted (a write to `data`), which also
 * lets a recovery waiting for an inline dump go on. Returns the machine paths written.
 */
async function saveCoredumps(host: Host, p: Processor): Promise<string[]> {
  const dumps = (await host.readDir(DEVCOREDUMP).catch(() => [])).filter((e) => /^devcd\d+$/.test(e));
  const owners = await host.readAttributes(dumps.map((d) => `${DEVCOREDUMP}/${d}/failing_device/name`));
  const saved: string[] = [];
  for (const [i, dump] of dumps.entries()) {
    const owner = owners[i]!;
    if (!('text' in owner) || owner.text.trim() !== p.name) continue;
    const target = `${COREDUMP_DIR}/${p.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.core`;
    await host.installFile(await host.readFile(`${DEVCOREDUMP}/${dump}/data`), target);
    await host.writeAttribute(`${DEVCOREDUMP}/${dump}/data`, '1');
    saved.push(target);
  }
  return saved;
}

/** Stops a processor Linux runs; nothing when it is offline already or the bootloader runs it detached. */
async function stop(host: Host, name: string): Promise<void> {
  let p = await processor(host, name);
  if (p.state === 'offline' || p.state === 'detached') return;
  if (p.state === 'crashed' && p.recovery === 'disabled') {
    // A crashed processor cannot be stopped (EINVAL) until it is recovered: the kernel restarts
    // it under its lock, and the stop below waits for that lock. The recovery is when the kernel
    // dumps it: the dump is kept (an inline one holds the recovery until it is read).
    await write(host, p, 'recovery', 'recover');
    if (p.coredump !== 'disabled') await saveCoredumps(host, p);
    p = await processor(host, name);
  }
  try {
    await write(host, p, 'state', 'stop');
  } catch (e) {
    // Stopped meanwhile (a recovery that failed, a stop by hand): that is what was asked.
    if (isHostError(e) && e.errno === 'EINVAL' && (await processor(host, name)).state === 'offline') return;
    throw e;
  }
}

/** The firmware installed where the kernel finds it (only when its bytes differ) and its name written. */
async function loadFirmware(host: Host, p: Processor, s: RemoteprocFacts, file: string): Promise<void> {
  const bytes = await host.readFile(file);
  const target = `${s.firmwareDir.replace(/\/$/, '')}/${s.firmwareName}`;
  const current = await host.readFile(target).catch(() => undefined);
  if (current === undefined || !current.equals(bytes)) await host.installFile(bytes, target);
  await write(host, p, 'firmware', s.firmwareName);
}

function boundOps(facts: UnitFacts | undefined): PartitionPort {
  return {
    ...partitionPort,
    async create(host, _config, name) {
      const s = settingsOf(facts, name);
      const p = await processor(host, name);
      // Not offline: it runs (a bootloader's core, or started meanwhile), so the start adopts it as found.
      if (p.state !== 'offline') throw new HostError({ code: 'HOST_TOOL_FAILED', op: 'remoteproc', errno: 'EEXIST', message: `processor ${name} is ${p.state}` });
      const recovery = s.recovery ? 'enabled' : 'disabled';
      if (p.recovery !== recovery) await write(host, p, 'recovery', recovery);
      if (p.coredump !== s.coredump) await write(host, p, 'coredump', s.coredump);
    },
    async load(host, name, images) {
      const s = settingsOf(facts, name);
      const p = await processor(host, name);
      if (p.state === 'attached' || p.state === 'detached') {
        if (s.bootloader) return; // the bootloader's firmware runs there: never replaced
        throw new HostError({
          code: 'HOST_TOOL_FAILED',
          op: 'remoteproc',
          errno: 'EBUSY',
          message: `processor ${name} runs a firmware the bootloader started (${p.state}); crtosd does not replace it`,
          hint: 'set `bootloader: true` in the cell\'s config to adopt it, or stop it in the bootloader so Linux can load the firmware',
        });
      }
      const file = images.find((i) => i.file !== undefined)?.file;
      if (file !== undefined) await loadFirmware(host, p, s, file);
    },
    async start(host, name) {
      const p = await processor(host, name);
      // A start while it runs would count one more user, and the next stop would then do nothing.
      if (p.state === 'offline' || p.state === 'detached') await write(host, p, 'state', 'start');
    },
  };
}

const partitionPort: PartitionPort = {
  commands: { create: 'remoteproc set up', load: 'remoteproc load firmware', start: 'remoteproc start', shutdown: 'remoteproc stop', destroy: 'remoteproc stop' },
  failureHint: "read the processor's trace (/sys/kernel/debug/remoteproc/remoteprocN/trace0) and dmesg for why it crashed; `echo recover > /sys/class/remoteproc/remoteprocN/recovery` restarts it",
  async describe(cell, hv, hvId) {
    const parsed = remoteprocCellConfig.safeParse((cell.spec as { config?: unknown }).config);
    if (!parsed.success || !hv) {
      const why = hv ? 'its config does not name a processor' : `${hvId} is not a remoteproc hypervisor in the set`;
      return { fields: { config: 'unusable' }, problem: problem('ENGINE_CELL_CONFIG', `${cell.id} cannot run: ${why}`, { unit: cell.id, hint: 'see `crtosctl validate`' }), unitFileError: true };
    }
    const config = parsed.data;
    const remoteproc: RemoteprocFacts = { ...config, cell: cell.name, firmwareDir: (hv as RemoteprocHypervisor).spec.firmwareDir, firmwareName: `crtos-${config.processor}.elf` };
    // What crtosd set the processor up with, kept beside the cells' configurations.
    const bytes = new TextEncoder().encode(`${JSON.stringify(remoteproc, null, 2)}\n`);
    return {
      fields: { config: remoteproc },
      facts: { cellName: config.processor, cpus: [], remoteproc },
      inlineConfig: { path: `${INLINE_CONFIG_DIR}/${cell.name}.remoteproc.json`, bytes },
    };
  },
  // Unbound (a record without facts): the operations say what is missing.
  create: (host, config, name, call) => boundOps(undefined).create(host, config, name, call),
  load: (host, name, images, call) => boundOps(undefined).load(host, name, images, call),
  start: (host, name, call) => boundOps(undefined).start(host, name, call),
  shutdown: (host, name) => stop(host, name),
  destroy: (host, name) => stop(host, name),
  bind: (facts) => boundOps(facts),
};

export const remoteprocBackend: Backend = {
  definition: remoteprocDefinition as unknown as Backend['definition'],
  // sysfs writes are quick; one at a time per machine keeps the kernel's log readable.
  lockGroup: 'remoteproc',
  observe: async (host) => ({ ...withCoredumps(toBackendStatus(await readRemoteproc(host)), await host.readDir(COREDUMP_DIR).catch(() => [])), dumps: await pendingDumps(host) }),
  // A crash the kernel recovers by itself leaves only its dump (with coredump on): kept here, and
  // logged, so the crash is on record although crtosd does nothing about it.
  async collect(host, status, runningCells) {
    const out: { partition: string; message: string }[] = [];
    for (const p of (status as RemoteprocBackendStatus).processors) {
      if (!runningCells.includes(p.name) || p.coredump === 'disabled') continue;
      const kept = await saveCoredumps(host, p).catch(() => []);
      for (const path of kept) out.push({ partition: p.name, message: `kept the kernel's dump of ${p.name} after a crash as ${path}` });
    }
    return out;
  },
  changed,
  transition: remoteprocTransition,

  hypervisor: {
    activeSubState: 'running',
    observe: observeEnabled(remoteprocDefinition.type, 'running'),
    // The framework is the kernel's: up once its class exists (after the driver, which requires it).
    async enable(unit, ctx) {
      const spec = (unit as RemoteprocHypervisor).spec;
      const present = await waitFor(() => ctx.host.exists(CLASS), spec.timeout, CLASS_POLL_MS, ctx.sleep);
      if (!present) {
        const driver = spec.driver ? ` (${unitId(spec.driver, 'Driver')})` : '';
        throw new HostError({ code: 'HOST_READ_FAILED', op: 'remoteproc', errno: 'ENOENT', message: `${CLASS} did not appear within ${spec.timeout} ms`, hint: `load the processor's platform driver${driver}; the kernel needs CONFIG_REMOTEPROC` });
      }
      return {};
    },
    // Nothing of the framework is crtosd's: its cells were stopped before.
    async disable() {},
  },

  partitions: partitionPort,

  links: {
    async place(link) {
      const spec = link.spec as unknown as RpmsgFields;
      return { facts: { device: spec.device, channel: spec.service }, device: spec.device };
    },
  },
};
