/** Cell as observers see it: org.crtos.Cell1 and its `crtosctl status` lines, its health monitor's included. */
import { formatCpuList } from '../../lib/cpu-list.js';
import type { Details, KindView } from '../view.js';
import { HEALTH_PROPERTIES, healthStatusLines } from '../../engine/health/view.js';

/** What observation gives; the health fields the view declares besides are the engine's (src/engine/health/view.ts). */
export interface CellDetails {
  /** Partition id the hypervisor gave the cell, -1 when the cell does not exist. */
  cellId: number;
  /** The hypervisor's state string (`running`, `shut down`, `failed`, …), '' when the cell does not exist. */
  jailhouseState: string;
  cpus: number[];
  failedCpus: number[];
  configPath: string;
  /** The backend the cell runs on (its hypervisor's `type:`). */
  backend?: string;
  /** The newest crash dump kept of it ('' for none), when its backend keeps them (remoteproc). */
  coredump?: string;
}

/** The status label of a cell's state: its backend's name (Jailhouse when not said, as before backends). */
const backendLabel = (backend: string | undefined): string => (backend ? backend[0]!.toUpperCase() + backend.slice(1) : 'Jailhouse');

export const cellView: KindView = {
  iface: 'org.crtos.Cell1',
  empty: { cellId: -1, jailhouseState: '', cpus: [], failedCpus: [], configPath: '' } satisfies CellDetails,
  properties: [
    { name: 'CellId', type: 'i', field: 'cellId' },
    { name: 'JailhouseState', type: 's', field: 'jailhouseState' },
    { name: 'CPUs', type: 'au', field: 'cpus' },
    { name: 'FailedCPUs', type: 'au', field: 'failedCpus' },
    { name: 'ConfigPath', type: 's', field: 'configPath' },
    { name: 'Backend', type: 's', field: 'backend' },
    { name: 'Coredump', type: 's', field: 'coredump' },
    ...HEALTH_PROPERTIES,
  ],
  statusLines(details: Details) {
    const d = details as Details & CellDetails;
    return [
      ['Cell ID', d.cellId >= 0 ? String(d.cellId) : '-'],
      // The state in the backend's own words, under its name (`Jailhouse: running`, `Remoteproc: attached`).
      [backendLabel(d.backend), d.jailhouseState || 'no such cell'],
      ['CPUs', d.cpus.length ? formatCpuList(d.cpus) : '-'],
      ...(d.failedCpus.length ? ([['Failed CPUs', formatCpuList(d.failedCpus)]] as [string, string][]) : []),
      ['Config', d.configPath],
      ...(d.coredump ? ([['Coredump', d.coredump]] as [string, string][]) : []),
      ...healthStatusLines(d),
    ];
  },
};
