/**
 * Jailhouse behind the backend port. The Host runs the `jailhouse` tool and reads its sysfs tree
 * (Host.jailhouse); what those mean is decided here: which states are running, which errnos say
 * "already done", what the supervisor polls between passes, and when the hypervisor is between
 * two states. Active once `enabled` reads 1; enable takes the system configuration, disable
 * destroys every cell (so cells are stopped before it).
 */
import type { CellInfo, Host, JailhouseStatus } from '../../host/host.js';
import { hostStep, isErrno } from '../../kinds/behaviour-common.js';
import type { Backend, BackendStatus, Partition, PartitionPhase, Transition } from '../port.js';
import { jailhouseDefinition, type JailhouseHypervisor } from './definition.js';
import { describeCell, describeHypervisor } from './describe.js';

const SYSFS = '/sys/devices/jailhouse';
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
  const [enabled, ...states] = await Promise.all([
    host.readFile(`${SYSFS}/enabled`).then((b) => b.toString().trim() === '1', () => false),
    ...seen.partitions.map((c) =>
      host.readFile(`${SYSFS}/cells/${c.id}/state`).then(
        (b) => b.toString().replace(/\n$/, ''),
        () => '',
      ),
    ),
  ]);
  return enabled !== seen.enabled || seen.partitions.some((c, i) => states[i] !== c.state);
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

export const jailhouseBackend: Backend = {
  definition: jailhouseDefinition as unknown as Backend['definition'],
  // Every jailhouse command takes the driver's lock, one at a time.
  lockGroup: 'jailhouse',
  observe: async (host) => toBackendStatus(await host.jailhouse()),
  changed,
  transition: jailhouseTransition,
  describe: (hv, ctx) => describeHypervisor(hv as JailhouseHypervisor, ctx),

  hypervisor: {
    activeSubState: 'enabled',
    observe(_target, snap) {
      const enabled = snap.backends.get(jailhouseDefinition.type)?.enabled ?? false;
      return enabled ? { state: 'active', subState: 'enabled', enabled } : { state: 'inactive', subState: 'dead', enabled };
    },
    async enable(unit, ctx) {
      const spec = (unit as JailhouseHypervisor).spec;
      const status = await hostStep(unit.id, 'reading the Jailhouse state', ctx.host.jailhouse());
      if (status.enabled) return {};
      try {
        await ctx.timed((call) => ctx.host.enableJailhouse(spec.system, call), spec.timeout, `jailhouse enable ${spec.system}`);
      } catch (e) {
        // EBUSY: enabled meanwhile (a daemon killed after its enable finished).
        if (!isErrno(e, 'EBUSY')) await hostStep(unit.id, `jailhouse enable ${spec.system}`, Promise.reject(e));
      }
      return {};
    },
    async disable(target, ctx) {
      const status = await hostStep(target.id, 'reading the Jailhouse state', ctx.host.jailhouse(), 'ENGINE_STOP_FAILED');
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
    create: async (host, config, name, call) => {
      await host.createCell(config, name, call);
    },
    load: (host, name, images, call) => host.loadCell(name, images, call),
    start: (host, name, call) => host.startCell(name, call),
    shutdown: (host, name, call) => host.shutdownCell(name, call),
    destroy: (host, name, call) => host.destroyCell(name, call),
  },
};
