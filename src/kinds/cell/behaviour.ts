/**
 * Cell: created from its configuration (name and CPUs read from it), loaded with its images and
 * strings, started, and ready once its probe answers. Reload keeps the cell (shutdown, load,
 * start); stop destroys it, which gives its CPUs back to Linux. Each of those is one operation of
 * the backend its hypervisor runs (PartitionPort), named in logs and errors as that backend names
 * it (`jailhouse cell create`); the backend is recorded in the facts (hypervisorType).
 *
 * A cell with an inline configuration is created from the bytes the description step encoded,
 * written first through the Host to /run/crtos/cells/NAME.cell (atomically; skipped when the file
 * already holds them). The file stays after a stop: it is small, under /run, and the next create
 * of the same description finds it in place.
 */
import type { CellImage, Host, ToolCall } from '../../host/host.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../spec-common.js';
import { imageSpecOf } from '../image/spec.js';
import { verifiedImageSha256 } from '../image/behaviour.js';
import { problem, ProblemError } from '../../errors/problem.js';
import type { ProblemCode } from '../../errors/codes.js';
import type { Observation, UnitFacts } from '../../engine/types.js';
import type { KindBehaviour, KindContext } from '../behaviour.js';
import { fail, hostStep, isErrno, RolledBackError, staged, waitFor } from '../behaviour-common.js';
import { describeCell } from './describe.js';
import { cellHealthTable, INLINE_CONFIG_DIR, type CellSpec } from './spec.js';
import { backendOfFacts, type Backend, type Partition, type PartitionPort } from '../../backends/index.js';
import type { CellDetails } from './view.js';
import type { Details } from '../view.js';

/** The cell's spec when the unit is in the set (a removed unit has only its recorded facts). */
function specOf(unit: Unit | undefined): CellSpec | undefined {
  return unit?.kind === 'Cell' ? (unit as UnitOf<'Cell'>).spec : undefined;
}

/** The partition of that name as its backend reads it now (one read of the backend's state). */
async function partition(backend: Backend, host: Host, unitId: string, name: string, code?: ProblemCode): Promise<Partition | undefined> {
  return (await hostStep(unitId, `reading the ${backend.definition.title} state`, backend.observe!(host), code)).partitions.find((p) => p.name === name);
}

/** The backend's operations for a cell with these facts (PartitionPort.bind). */
function bound(backend: Backend, facts: UnitFacts): PartitionPort {
  const ops = backend.partitions!;
  return ops.bind?.(facts) ?? ops;
}

/** The backend a start or reload acts through: the one its description names. */
function opsOf(ctx: KindContext): { backend: Backend; ops: PartitionPort } {
  const backend = backendOfFacts(ctx.desc.facts);
  return { backend, ops: bound(backend, ctx.desc.facts) };
}

export const cellBehaviour: KindBehaviour = {
  activeSubState: (unit) => (specOf(unit)?.start === false ? 'loaded' : 'running'),
  describe: (unit, ctx) => describeCell(unit as UnitOf<'Cell'>, ctx),
  reloadSteps: 'shutdown, load, start',
  // The machine names the cell: the name it was created under stays; its CPUs are the configuration's.
  adoptFacts: (described, recorded) => ({ ...described, ...(recorded ?? {}), cellName: recorded?.cellName ?? described.cellName, cpus: described.cpus }),
  // Found running after a crash in its start: start() waits for its readiness, then it is active.
  resumesStart: true,
  // Jailhouse: every command holds the driver's one lock.
  lockGroup: (target) => backendOfFacts(target.facts).lockGroup,
  partitionOf: (facts) => (facts.cellName === undefined ? undefined : { backend: backendOfFacts(facts).definition.type, name: facts.cellName }),
  // create (or shutdown), load, start: three backend commands in a row.
  launchCost: 3,
  health(unit) {
    const spec = specOf(unit)!;
    return { table: cellHealthTable(spec), ...(spec.liveness ? { liveness: spec.liveness } : {}), hypervisor: unitId(spec.hypervisor, 'Hypervisor') };
  },
  onObservedFailure(unit, obs, facts: UnitFacts) {
    const d = obs.details as Details & CellDetails;
    const backend = backendOfFacts(facts);
    return {
      problem: problem('ENGINE_CELL_FAILED', `${backend.definition.title} reports the cell ${d.jailhouseState}, failed CPUs: ${d.failedCpus.join(',') || 'none'}`, { unit: unit.id, hint: backend.partitions!.failureHint }),
      why: 'cell failed',
    };
  },
  observe(target, snap): Observation {
    const backend = backendOfFacts(target.facts);
    const name = target.facts.cellName;
    const cell = name === undefined ? undefined : snap.backends.get(backend.definition.type)?.partitions.find((p) => p.name === name);
    const spec = specOf(target.unit);
    const details = {
      kind: 'Cell' as const,
      cellId: cell?.id ?? -1,
      jailhouseState: cell?.state ?? '',
      cpus: cell?.cpus ?? target.facts.cpus ?? [],
      failedCpus: cell?.failedCpus ?? [],
      configPath: target.facts.configPath ?? '',
      backend: backend.definition.type,
      coredump: cell?.coredump ?? '',
    };
    if (!cell) return { state: 'inactive', subState: 'dead', details };
    if (cell.phase === 'running') return { state: 'active', subState: 'running', details };
    if (cell.phase === 'shut-down') {
      // A cell that is to stay loaded but not started is complete when shut down.
      return spec && !spec.start ? { state: 'active', subState: 'loaded', details } : { state: 'partial', subState: 'shut-down', details };
    }
    return { state: 'failed', subState: cell.state === 'failed' ? 'failed' : cell.state.replace(/\s+/g, '-').toLowerCase(), details };
  },

  async stage(unit, ctx) {
    const cell = unit as UnitOf<'Cell'>;
    cellName(cell, ctx);
    await checkImages(cell, ctx);
  },

  async start(unit, ctx) {
    const cell = unit as UnitOf<'Cell'>;
    const { name, images, existing, created } = await prepare(cell, ctx);
    if (existing && existing.phase === 'running' && cell.spec.start) {
      // Resumed after the start itself: only readiness is left.
      await waitReady(cell, name, ctx);
      return { cellName: name, cpus: ctx.desc.facts.cpus ?? [], ...lastGoodOf(ctx) };
    }
    await loadAndStart(cell, name, images, ctx);
    const lastGood = created ? await keepLastGood(cell, created, ctx) : lastGoodOf(ctx);
    return { cellName: name, cpus: ctx.desc.facts.cpus ?? [], ...lastGood };
  },

  async reload(unit, ctx) {
    const cell = unit as UnitOf<'Cell'>;
    const { name, images, existing } = await prepare(cell, ctx);
    if (existing && existing.phase !== 'shut-down') {
      const { ops } = opsOf(ctx);
      const what = `${ops.commands.shutdown} ${name}`;
      await ctx.timed((call) => hostStep(cell.id, what, ops.shutdown(ctx.host, name, call)), cell.spec.timeout, what);
    }
    await loadAndStart(cell, name, images, ctx);
    return { cellName: name, cpus: ctx.desc.facts.cpus ?? [], ...lastGoodOf(ctx) };
  },

  async stop(target, ctx) {
    const name = target.facts.cellName;
    if (name === undefined) return;
    const timeout = specOf(target.unit)?.timeout ?? 30_000;
    const backend = backendOfFacts(target.facts);
    const ops = bound(backend, target.facts);
    if (!(await partition(backend, ctx.host, target.id, name, 'ENGINE_STOP_FAILED'))) return;
    const what = `${ops.commands.destroy} ${name}`;
    try {
      await ctx.timed((call) => ops.destroy(ctx.host, name, call), timeout, what);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return; // gone meanwhile
      if (e instanceof ProblemError) throw e;
      await hostStep(target.id, what, Promise.reject(e), 'ENGINE_STOP_FAILED');
    }
  },
};

/**
 * What start and reload both do first: learn the cell's name, verify its images (before touching
 * anything), and create the cell unless it exists. `existing` is the cell as it was found.
 */
async function prepare(cell: UnitOf<'Cell'>, ctx: KindContext): Promise<{ name: string; images: CellImage[]; existing?: Partition; created?: string }> {
  // Staged: nothing is touched until the name is known and every image verifies.
  const { name, images } = await staged(async () => ({ name: cellName(cell, ctx), images: await checkImages(cell, ctx) }));
  const { backend, ops } = opsOf(ctx);
  const existing = await partition(backend, ctx.host, cell.id, name);
  if (existing) return { name, images, existing };
  const config = await placeConfig(cell, ctx);
  const what = `${ops.commands.create} ${config}`;
  let made: boolean;
  try {
    // EEXIST: a cell of this name appeared meanwhile (a create a killed crtosd left running
    // finished): it is taken as found, never destroyed as if this start had half-made it.
    const create = (call: ToolCall) => ops.create(ctx.host, config, name, call).then(() => true, (e: unknown) => (isErrno(e, 'EEXIST') ? false : Promise.reject(e)));
    made = await ctx.timed((call) => hostStep(cell.id, what, create(call)), cell.spec.timeout, what);
  } catch (e) {
    await putLastGoodBack(cell, images, e, ctx);
    throw e;
  }
  if (!made) {
    const found = await partition(backend, ctx.host, cell.id, name);
    if (found) return { name, images, existing: found };
  }
  return { name, images, created: config };
}

/** Where a copy of the configuration a cell last came up from is kept (a machine path). */
export function lastGoodConfigPath(unitName: string): string {
  return `${INLINE_CONFIG_DIR}/${unitName}.last-good.cell`;
}

function lastGoodOf(ctx: KindContext): { lastGoodConfig?: string } {
  const kept = ctx.replaced?.lastGoodConfig;
  return kept === undefined ? {} : { lastGoodConfig: kept };
}

/**
 * A cell that came up: a copy of the configuration it was created from is kept, so a later
 * configuration the hypervisor refuses (only it can judge some things) can be undone. A copy that
 * cannot be written costs only that: the start stands.
 */
async function keepLastGood(cell: UnitOf<'Cell'>, config: string, ctx: KindContext): Promise<{ lastGoodConfig?: string }> {
  const path = lastGoodConfigPath(cell.name);
  try {
    await ctx.host.installFile(config, path);
    return { lastGoodConfig: path };
  } catch (e) {
    ctx.log(`cannot keep a copy of ${config} at ${path}; a refused configuration could not be undone: ${(e as Error).message}`);
    return {};
  }
}

/**
 * The new configuration was refused by the hypervisor after the old cell was destroyed for it (a
 * re-create): create the old one again from its kept copy, load and start it, and fail the job
 * with both problems, the cell running as before. Without a copy, or if putting it back fails too,
 * the original error stands (with the second one logged).
 */
async function putLastGoodBack(cell: UnitOf<'Cell'>, images: CellImage[], refusal: unknown, ctx: KindContext): Promise<void> {
  const old = ctx.replaced;
  if (!old?.lastGoodConfig || !old.cellName || !(refusal instanceof ProblemError) || refusal.problems[0]?.code === 'ENGINE_TIMEOUT') return;
  const name = old.cellName;
  const config = old.lastGoodConfig;
  const { ops } = opsOf(ctx);
  const what = `${ops.commands.create} ${config}`;
  try {
    await ctx.timed((call) => hostStep(cell.id, what, ops.create(ctx.host, config, name, call)), cell.spec.timeout, what);
    await loadAndStart(cell, name, images, ctx);
  } catch (e) {
    ctx.log(`putting the last good configuration back failed too: ${(e as Error).message}`);
    return;
  }
  const why = refusal.problems[0]!;
  throw new RolledBackError([
    { ...why, message: `${why.message}; the last good configuration was put back and the cell runs it`, hint: 'correct the configuration; crtosd tries it again once the unit file or the .cell file changes' },
  ]);
}

/**
 * The machine path the backend creates the cell from: the configuration its backend generated (the
 * inline one encoded, or one with its links), written unless the file already holds exactly these
 * bytes, or else the unit's .cell file.
 */
async function placeConfig(cell: UnitOf<'Cell'>, ctx: KindContext): Promise<string> {
  const inline = ctx.desc.inlineConfig;
  if (!inline && typeof cell.spec.config === 'string') return cell.spec.config;
  if (!inline) fail('ENGINE_CELL_CONFIG', cell.id, `the inline configuration of ${cell.id} was not encoded`);
  const current = await ctx.host.readFile(inline.path).catch(() => undefined);
  if (current === undefined || !current.equals(inline.bytes)) {
    await hostStep(cell.id, `writing the inline configuration to ${inline.path}`, ctx.host.installFile(inline.bytes, inline.path));
  }
  return inline.path;
}

function cellName(cell: UnitOf<'Cell'>, ctx: KindContext): string {
  if (ctx.desc.problem) throw new ProblemError(ctx.desc.problem);
  const name = ctx.desc.facts.cellName;
  if (name === undefined) fail('ENGINE_CELL_CONFIG', cell.id, `the cell name of ${typeof cell.spec.config === 'string' ? cell.spec.config : 'the inline configuration'} is unknown`);
  return name;
}

/** Every image exists and has its pinned sha256: checked before every load, a mismatch refuses. */
async function checkImages(cell: UnitOf<'Cell'>, ctx: KindContext): Promise<CellImage[]> {
  const out: CellImage[] = [];
  for (const entry of cell.spec.load) {
    if (!('image' in entry)) {
      out.push({ string: entry.string, address: entry.address });
      continue;
    }
    const imageId = unitId(entry.image, 'Image');
    const image = ctx.set.units.get(imageId);
    if (!imageSpecOf(image)) fail('ENGINE_IMAGE_MISSING', cell.id, `image unit ${imageId} is not loaded`);
    const verified = image as UnitOf<'Image'>;
    await verifiedImageSha256(ctx.host, verified, cell.id);
    out.push({ file: verified.spec.path, address: entry.address });
  }
  return out;
}

async function loadAndStart(cell: UnitOf<'Cell'>, name: string, images: CellImage[], ctx: KindContext): Promise<void> {
  const { backend, ops } = opsOf(ctx);
  if (images.length > 0) {
    const what = `${ops.commands.load} ${name}`;
    await ctx.timed((call) => hostStep(cell.id, what, ops.load(ctx.host, name, images, call)), cell.spec.timeout, what);
  }
  if (!cell.spec.start) return;
  const what = `${ops.commands.start} ${name}`;
  await ctx.timed((call) => hostStep(cell.id, what, ops.start(ctx.host, name, call)), cell.spec.timeout, what);
  // An inmate that faults in its first instructions is already failed when `cell start` returns:
  // the start failed, as systemd fails a start whose main process died at once.
  const found = await partition(backend, ctx.host, cell.id, name);
  if (found?.phase !== 'running') {
    fail('ENGINE_CELL_FAILED', cell.id, `cell ${name} is ${found?.state ?? 'gone'} right after \`${ops.commands.start}\``, ops.failureHint);
  }
  await waitReady(cell, name, ctx);
}

/**
 * Probes until the cell answers. Between probes it looks at the cell: one that left `running`
 * (a fatal guest error, a panic) will never answer, so the start fails at once, as systemd fails
 * a start whose main process died, rather than after the whole timeout.
 */
async function waitReady(cell: UnitOf<'Cell'>, cellName: string, ctx: KindContext): Promise<void> {
  const ready = cell.spec.ready;
  if (!ready) return;
  const { host: addr, port } = ready.tcp;
  const probeMs = Math.max(50, Math.min(1000, ready.interval));
  const { backend, ops } = opsOf(ctx);
  const answered = async (): Promise<boolean> => {
    if (await ctx.host.probeTcp(addr, port, probeMs)) return true;
    const found = await partition(backend, ctx.host, cell.id, cellName);
    if (found?.phase !== 'running') {
      fail('ENGINE_CELL_FAILED', cell.id, `cell ${cellName} is ${found?.state ?? 'gone'} while waiting for it to accept a connection on ${addr}:${port}`, ops.failureHint);
    }
    return false;
  };
  const ok = await waitFor(answered, ready.timeout, ready.interval, ctx.sleep);
  if (!ok) fail('ENGINE_READY_TIMEOUT', cell.id, `cell ${cellName} did not accept a connection on ${addr}:${port} within ${ready.timeout} ms`, 'check that the RTOS boots and listens there, or raise `ready.timeout`');
}

