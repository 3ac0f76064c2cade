/** Hypervisor as observers see it: org.crtos.Hypervisor1 and its `crtosctl status` lines. */
import type { Details, KindView } from '../view.js';

export interface HypervisorDetails {
  type: string;
  enabled: boolean;
}

export const hypervisorView: KindView = {
  iface: 'org.crtos.Hypervisor1',
  // The machine's partitioning is the first thing to know about it.
  overviewLabel: 'Hypervisor',
  empty: { type: '', enabled: false } satisfies HypervisorDetails,
  properties: [
    { name: 'Type', type: 's', field: 'type' },
    { name: 'Enabled', type: 'b', field: 'enabled' },
  ],
  statusLines(details: Details) {
    const d = details as Details & HypervisorDetails;
    return [
      ['Type', d.type],
      ['Enabled', d.enabled ? 'yes' : 'no'],
    ];
  },
};
