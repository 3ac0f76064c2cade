/**
 * Jailhouse behind the backend port. The Host runs the `jailhouse` tool and reads files; what its
 * sysfs tree says is read here (sysfs.ts), and what those mean is decided here: which states are
 * running, which errnos say "already done", that a create made its cell, what the supervisor polls
 * between passes, and when the hypervisor is between two states. Active once `enabled` reads 1; enable takes the system configuration, disable
 * destroys every cell (so cells are stopped before it).
 */
import type { Host, ToolCall } from '../../host/host.js';
import { HostError } from '../../host/host-error.js';
import { jailhouseArgv } from '../../host/argv.js';
import { fail, hostStep, isErrno } from '../../kinds/behaviour-common.js';
import { observeEnabled, type Backend, type BackendStatus, type Partition, type PartitionPhase, type Transition } from '../port.js';
import { jailhouseDefinition, type JailhouseHypervisor } from './definition.js';
import { describeCell, describeHypervisor, describedLayout } from './describe.js';
import { placementFacts, pciDevicePath } from './link-facts.js';
import { problem, ProblemError } from '../../errors/problem.js';
import { attributeText, readJailhouse, SYSFS, type CellInfo, type JailhouseStatus } from './sysfs.js';
const DISABLE_TIMEOUT_MS = 30_000;

/** The status with every cell as sysfs shows it (the root cell included), for the transition check. */
export interface JailhouseBackendStatus extends BackendStatus {
  cells: CellInfo[];
}

function phaseOf(state: string): PartitionPhase {
  if (state === 'running' || state === 'running/locked') return 'running';
  return state === 'shut down' ? 'shut-down' : 'failed';
}

export function toBackendStatus(status: JailhouseStatus): JailhouseBackendStatus {
  const partitions = status.cells
    .filter((c) => c.id !== 0)
    .map((c): Partition => ({ id: c.id, name: c.name, state: c.state, phase: phaseOf(c.state), cpus: c.cpusAssigned, failedCpus: c.cpusFailed }));
  return { enabled: status.enabled, partitions, cells: status.cells };
}

/**
 * The cheap watch between passes: only `enabled` and the `state` file of each cell the last pass
 * saw (one small sysfs read per cell); any difference starts a full pass.
 */
async function changed(host: Host, seen: BackendStatus): Promise<boolean> {
  const [enabled, ...states] = (await host.readAttributes([`${SYSFS}/enabled`, ...seen.partitions.map((c) => `${SYSFS}/cells/${c.id}/state`)])).map((r) =>
    'text' in r ? r.text : undefined,
  );
  return (enabled?.trim() === '1') !== seen.enabled || seen.partitions.some((c, i) => attributeText(states[i] ?? '') !== c.state);
}

/**
 * `jailhouse cell create`, then the cell it made in sysfs: upstream returns success without
 * creating the cell when the configuration's architecture does not match the machine's.
 */
async function createCell(host: Host, config: string, name: string, call?: ToolCall): Promise<void> {
  await host.createCell(config, call);
  const status = await readJailhouse(host);
  if (status.cells.some((c) => c.name === name)) return;
  const argv = jailhouseArgv.create(host.resolve(config));
  throw new HostError({
    code: 'HOST_CELL_NOT_CREATED',
    op: 'createCell',
    argv,
    exitCode: 0,
    message: `createCell: \`${argv.join(' ')}\` succeeded but no cell named "${name}" appeared in ${SYSFS}/cells`,
    hint: 'check that the cell configuration was built for this machine\'s architecture (Jailhouse ignores a mismatching one silently)',
  });
}

/**
 * Whether the hypervisor is between two states. On a real Jailhouse a disable takes the non-root
 * cells' directories away about a second before `enabled` reads 0 (the root cell's last), and a
 * cell's `state` reads `invalid` while it is destroyed: planning against that picture would run
 * `cell create` against a hypervisor that is switching off. A cell crtosd runs that is gone while
 * `enabled` still reads 1 may be the first sign of a disable, or a destroy behind crtosd's back:
 * a short wait tells them apart.
 */
export function jailhouseTransition(status: BackendStatus, runningCells: readonly string[]): Transition | undefined {
  if (!status.enabled) return undefined;
  const { cells } = status as JailhouseBackendStatus;
  if (!cells.some((c) => c.id === 0)) return { why: 'it is being disabled (the root cell is gone, enabled still reads 1)', waitMs: 5000 };
  const destroying = cells.find((c) => c.state === 'invalid');
  if (destroying) return { why: `cell ${destroying.name} is being destroyed (state invalid)`, waitMs: 5000 };
  const gone = runningCells.find((name) => !cells.some((c) => c.name === name));
  return gone === undefined ? undefined : { why: `cell ${gone} is gone while the hypervisor is enabled (a disable may be under way)`, waitMs: 2000 };
}

/**
 * A configuration crtosd generated (the system configuration with its links), written where the
 * description says unless the file already holds exactly these bytes; its path, or undefined when
 * the unit's own file is used as it is.
 */
async function placeGenerated(unit: string, generated: { path: string; bytes: Uint8Array } | undefined, host: Host): Promise<string | undefined> {
  if (!generated) return undefined;
  const current = await host.readFile(generated.path).catch(() => undefined);
  if (current === undefined || !current.equals(generated.bytes)) {
    await hostStep(unit, `writing the generated configuration to ${generated.path}`, host.installFile(generated.bytes, generated.path));
  }
  return generated.path;
}

export const jailhouseBackend: Backend = {
  definition: jailhouseDefinition as unknown as Backend['definition'],
  // Every jailhouse command takes the driver's lock, one at a time.
  lockGroup: 'jailhouse',
  observe: async (host) => toBackendStatus(await readJailhouse(host)),
  changed,
  transition: jailhouseTransition,
  describe: (hv, ctx) => describeHypervisor(hv as JailhouseHypervisor, ctx),

  hypervisor: {
    activeSubState: 'enabled',
    observe: observeEnabled(jailhouseDefinition.type, 'enabled'),
    async enable(unit, ctx) {
      const spec = (unit as JailhouseHypervisor).spec;
      const status = await hostStep(unit.id, 'reading the Jailhouse state', readJailhouse(ctx.host));
      if (status.enabled) return {};
      if (ctx.desc.problem) throw new ProblemError(ctx.desc.problem);
      const generated = await placeGenerated(unit.id, ctx.desc.inlineConfig, ctx.host);
      if (generated === undefined && typeof spec.system !== 'string') fail('ENGINE_CELL_CONFIG', unit.id, `the inline system configuration of ${unit.id} was not encoded`);
      const system = generated ?? (spec.system as string);
      try {
        await ctx.timed((call) => ctx.host.enableJailhouse(system, call), spec.timeout, `jailhouse enable ${system}`);
      } catch (e) {
        // EBUSY: enabled meanwhile (a daemon killed after its enable finished).
        if (!isErrno(e, 'EBUSY')) await hostStep(unit.id, `jailhouse enable ${system}`, Promise.reject(e));
      }
      return {};
    },
    async disable(target, ctx) {
      const status = await hostStep(target.id, 'reading the Jailhouse state', readJailhouse(ctx.host), 'ENGINE_STOP_FAILED');
      if (!status.enabled) return;
      try {
        await ctx.timed((call) => ctx.host.disableJailhouse(call), DISABLE_TIMEOUT_MS, 'jailhouse disable');
      } catch (e) {
        // EINVAL: disabled meanwhile.
        if (!isErrno(e, 'EINVAL')) await hostStep(target.id, 'jailhouse disable', Promise.reject(e), 'ENGINE_STOP_FAILED');
      }
    },
  },

  partitions: {
    commands: { create: 'jailhouse cell create', load: 'jailhouse cell load', start: 'jailhouse cell start', shutdown: 'jailhouse cell shutdown', destroy: 'jailhouse cell destroy' },
    failureHint: "see the cell's console (`jailhouse console`) for why it stopped",
    describe: (cell, hv, hvId, ctx) => describeCell(cell, hv as JailhouseHypervisor | undefined, hvId, ctx),
    create: createCell,
    load: (host, name, images, call) => host.loadCell(name, images, call),
    start: (host, name, call) => host.startCell(name, call),
    shutdown: (host, name, call) => host.shutdownCell(name, call),
    destroy: (host, name, call) => host.destroyCell(name, call),
  },

  links: {
    async place(link, hv, ctx) {
      const layout = await describedLayout(hv as JailhouseHypervisor, ctx);
      const placed = layout.links.get(link.id);
      if (!placed) {
        const why = layout.findings.find((f) => f.unit === link.id);
        return { problem: problem(why?.code ?? 'UNIT_LINK', `${link.id} is not placed: ${why?.message ?? `the system configuration of ${hv.id} cannot be read`}`, { unit: link.id, hint: why?.hint ?? 'see `crtosctl validate`' }) };
      }
      return { facts: placementFacts(placed), ...(placed.request.peers.some((p) => p.cell === undefined) ? { device: pciDevicePath(layout.base?.platformInfo.pciDomain ?? 0, placed.placement.bdf) } : {}) };
    },
  },
};
