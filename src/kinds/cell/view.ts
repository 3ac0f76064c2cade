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
}

export const cellView: KindView = {
  iface: 'org.crtos.Cell1',
  empty: { cellId: -1, jailhouseState: '', cpus: [], failedCpus: [], configPath: '' } satisfies CellDetails,
  properties: [
    { name: 'CellId', type: 'i', field: 'cellId' },
    { name: 'JailhouseState', type: 's', field: 'jailhouseState' },
    { name: 'CPUs', type: 'au', field: 'cpus' },
    { name: 'FailedCPUs', type: 'au', field: 'failedCpus' },
    { name: 'ConfigPath', type: 's', field: 'configPath' },
    ...HEALTH_PROPERTIES,
  ],
  statusLines(details: Details) {
    const d = details as Details & CellDetails;
    return [
      ['Cell ID', d.cellId >= 0 ? String(d.cellId) : '-'],
      ['Jailhouse', d.jailhouseState || 'no such cell'],
      ['CPUs', d.cpus.length ? formatCpuList(d.cpus) : '-'],
      ...(d.failedCpus.length ? ([['Failed CPUs', formatCpuList(d.failedCpus)]] as [string, string][]) : []),
      ['Config', d.configPath],
      ...healthStatusLines(d),
    ];
  },
};
