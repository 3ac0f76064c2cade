/**
 * Cell: created from its .cell file (name and CPUs read from it), loaded with its images and
 * strings, started, and ready once its probe answers. Reload keeps the cell (shutdown, load,
 * start); stop destroys it, which gives its CPUs back to Linux.
 *
 * A cell with an inline configuration is created from the bytes the description step encoded,
 * written first through the Host to /run/crtos/cells/NAME.cell (atomically; skipped when the file
 * already holds them). The file stays after a stop: it is small, under /run, and the next create
 * of the same description finds it in place.
 */
import type { CellImage, CellInfo, ToolCall } from '../../host/host.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../spec-common.js';
import { imageSpecOf } from '../image/spec.js';
import { sha256 } from '../../engine/canonical.js';
import { problem, ProblemError } from '../../errors/problem.js';
import type { Observation } from '../../engine/types.js';
import type { KindBehaviour, KindContext, Target } from '../behaviour.js';
import { fail, hostStep, isErrno, RolledBackError, staged, waitFor } from '../behaviour-common.js';
import { describeCell, INLINE_CONFIG_DIR, inlineConfigPath } from './describe.js';
import type { CellSpec } from './spec.js';
import type { CellDetails } from './view.js';
import type { Details } from '../view.js';

const RUNNING = new Set(['running', 'running/locked']);

/** The cell's spec when the unit is in the set (a removed unit has only its recorded facts). */
function specOf(unit: Unit | undefined): CellSpec | undefined {
  return unit?.kind === 'Cell' ? (unit as UnitOf<'Cell'>).spec : undefined;
}

function findCell(target: Target, cells: CellInfo[]): CellInfo | undefined {
  const name = target.facts.cellName;
  return name === undefined ? undefined : cells.find((c) => c.id !== 0 && c.name === name);
}

export const cellBehaviour: KindBehaviour = {
  activeSubState: (unit) => (specOf(unit)?.start === false ? 'loaded' : 'running'),
  describe: (unit, ctx) => describeCell(unit as UnitOf<'Cell'>, ctx),
  reloadSteps: 'shutdown, load, start',
  // The machine names the cell: the name it was created under stays; its CPUs are the configuration's.
  adoptFacts: (described, recorded) => ({ ...described, ...(recorded ?? {}), cellName: recorded?.cellName ?? described.cellName, cpus: described.cpus }),
  // Every jailhouse command holds the driver's one lock.
  lockGroup: () => 'jailhouse',
  // create (or shutdown), load, start: three jailhouse commands in a row.
  launchCost: 3,
  restarts: (unit) => specOf(unit)?.onFailure === 'restart',
  onObservedFailure(unit, obs) {
    const d = obs.details as Details & CellDetails;
    return {
      problem: problem('ENGINE_CELL_FAILED', `Jailhouse reports the cell ${d.jailhouseState}, failed CPUs: ${d.failedCpus.join(',') || 'none'}`, { unit: unit.id, hint: 'see the cell\'s console (`jailhouse console`) for why it stopped' }),
      action: specOf(unit)?.onFailure ?? 'none',
      why: 'cell failed',
    };
  },
  observe(target, snap): Observation {
    const cell = findCell(target, snap.jailhouse.cells);
    const spec = specOf(target.unit);
    const details = {
      kind: 'Cell' as const,
      cellId: cell?.id ?? -1,
      jailhouseState: cell?.state ?? '',
      cpus: cell?.cpusAssigned ?? target.facts.cpus ?? [],
      failedCpus: cell?.cpusFailed ?? [],
      configPath: spec === undefined ? '' : typeof spec.config === 'string' ? spec.config : inlineConfigPath(target.unit!.name),
    };
    if (!cell) return { state: 'inactive', subState: 'dead', details };
    if (RUNNING.has(cell.state)) return { state: 'active', subState: 'running', details };
    if (cell.state === 'shut down') {
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
    if (existing && RUNNING.has(existing.state) && cell.spec.start) {
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
    if (existing && existing.state !== 'shut down') {
      await ctx.timed((call) => hostStep(cell.id, `jailhouse cell shutdown ${name}`, ctx.host.shutdownCell(name, call)), cell.spec.timeout, `jailhouse cell shutdown ${name}`);
    }
    await loadAndStart(cell, name, images, ctx);
    return { cellName: name, cpus: ctx.desc.facts.cpus ?? [], ...lastGoodOf(ctx) };
  },

  async stop(target, ctx) {
    const name = target.facts.cellName;
    if (name === undefined) return;
    const timeout = specOf(target.unit)?.timeout ?? 30_000;
    const status = await hostStep(target.id, 'reading the Jailhouse state', ctx.host.jailhouse(), 'ENGINE_STOP_FAILED');
    if (!status.cells.some((c) => c.id !== 0 && c.name === name)) return;
    try {
      await ctx.timed((call) => ctx.host.destroyCell(name, call), timeout, `jailhouse cell destroy ${name}`);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return; // gone meanwhile
      if (e instanceof ProblemError) throw e;
      await hostStep(target.id, `jailhouse cell destroy ${name}`, Promise.reject(e), 'ENGINE_STOP_FAILED');
    }
  },
};

/**
 * What start and reload both do first: learn the cell's name, verify its images (before touching
 * anything), and create the cell unless it exists. `existing` is the cell as it was found.
 */
async function prepare(cell: UnitOf<'Cell'>, ctx: KindContext): Promise<{ name: string; images: CellImage[]; existing?: CellInfo; created?: string }> {
  // Staged: nothing is touched until the name is known and every image verifies.
  const { name, images } = await staged(async () => ({ name: cellName(cell, ctx), images: await checkImages(cell, ctx) }));
  const status = await hostStep(cell.id, 'reading the Jailhouse state', ctx.host.jailhouse());
  const existing = status.cells.find((c) => c.id !== 0 && c.name === name);
  if (existing) return { name, images, existing };
  const config = await placeConfig(cell, ctx);
  let made: boolean;
  try {
    // EEXIST: a cell of this name appeared meanwhile (a create a killed crtosd left running
    // finished): it is taken as found, never destroyed as if this start had half-made it.
    const create = (call: ToolCall) => ctx.host.createCell(config, name, call).then(() => true, (e: unknown) => (isErrno(e, 'EEXIST') ? false : Promise.reject(e)));
    made = await ctx.timed((call) => hostStep(cell.id, `jailhouse cell create ${config}`, create(call)), cell.spec.timeout, `jailhouse cell create ${config}`);
  } catch (e) {
    await putLastGoodBack(cell, images, e, ctx);
    throw e;
  }
  if (!made) {
    const found = (await hostStep(cell.id, 'reading the Jailhouse state', ctx.host.jailhouse())).cells.find((c) => c.id !== 0 && c.name === name);
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
  try {
    await ctx.timed((call) => hostStep(cell.id, `jailhouse cell create ${config}`, ctx.host.createCell(config, name, call)), cell.spec.timeout, `jailhouse cell create ${config}`);
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
 * The machine path `jailhouse cell create` reads: the unit's .cell file, or the encoded inline
 * configuration, written unless the file already holds exactly these bytes.
 */
async function placeConfig(cell: UnitOf<'Cell'>, ctx: KindContext): Promise<string> {
  if (typeof cell.spec.config === 'string') return cell.spec.config;
  const inline = ctx.desc.inlineConfig;
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
    const image = imageSpecOf(ctx.set.units.get(imageId));
    if (!image) fail('ENGINE_IMAGE_MISSING', cell.id, `image unit ${imageId} is not loaded`);
    let bytes: Buffer;
    try {
      bytes = await ctx.host.readFile(image.path);
    } catch (e) {
      fail('ENGINE_IMAGE_MISSING', cell.id, `cannot read image ${image.path} (${imageId}): ${(e as Error).message}`, 'check `path:` of the Image unit');
    }
    if (image.sha256 !== undefined) {
      const actual = sha256(bytes);
      if (actual !== image.sha256) {
        fail('ENGINE_IMAGE_MISMATCH', cell.id, `image ${image.path} has sha256 ${actual}, but ${imageId} pins ${image.sha256}; not loaded`, 'update `sha256:` in the Image unit if the new file is intended');
      }
    }
    out.push({ file: image.path, address: entry.address });
  }
  return out;
}

async function loadAndStart(cell: UnitOf<'Cell'>, name: string, images: CellImage[], ctx: KindContext): Promise<void> {
  if (images.length > 0) {
    await ctx.timed((call) => hostStep(cell.id, `jailhouse cell load ${name}`, ctx.host.loadCell(name, images, call)), cell.spec.timeout, `jailhouse cell load ${name}`);
  }
  if (!cell.spec.start) return;
  await ctx.timed((call) => hostStep(cell.id, `jailhouse cell start ${name}`, ctx.host.startCell(name, call)), cell.spec.timeout, `jailhouse cell start ${name}`);
  // An inmate that faults in its first instructions is already failed when `cell start` returns:
  // the start failed, as systemd fails a start whose main process died at once.
  const state = (await hostStep(cell.id, 'reading the Jailhouse state', ctx.host.jailhouse())).cells.find((c) => c.id !== 0 && c.name === name)?.state;
  if (state === undefined || !RUNNING.has(state)) {
    fail('ENGINE_CELL_FAILED', cell.id, `cell ${name} is ${state ?? 'gone'} right after \`jailhouse cell start\``, "see the cell's console (`jailhouse console`) for why it stopped");
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
  const answered = async (): Promise<boolean> => {
    if (await ctx.host.probeTcp(addr, port, probeMs)) return true;
    const status = await hostStep(cell.id, 'reading the Jailhouse state', ctx.host.jailhouse());
    const state = status.cells.find((c) => c.id !== 0 && c.name === cellName)?.state;
    if (state === undefined || !RUNNING.has(state)) {
      fail('ENGINE_CELL_FAILED', cell.id, `cell ${cellName} is ${state ?? 'gone'} while waiting for it to accept a connection on ${addr}:${port}`, 'see the cell\'s console (`jailhouse console`) for why it stopped');
    }
    return false;
  };
  const ok = await waitFor(answered, ready.timeout, ready.interval, ctx.sleep);
  if (!ok) fail('ENGINE_TIMEOUT', cell.id, `cell ${cellName} did not accept a connection on ${addr}:${port} within ${ready.timeout} ms`, 'check that the RTOS boots and listens there, or raise `ready.timeout`');
}

