/** Network as observers see it: org.crtos.Network1 and its `crtosctl status` lines. */
import type { Details, KindView } from '../view.js';

export interface NetworkDetails {
  interface: string;
  addresses: string[];
  up: boolean;
}

export const networkView: KindView = {
  iface: 'org.crtos.Network1',
  empty: { interface: '', addresses: [], up: false } satisfies NetworkDetails,
  properties: [
    { name: 'Interface', type: 's', field: 'interface' },
    { name: 'Addresses', type: 'as', field: 'addresses' },
    { name: 'Up', type: 'b', field: 'up' },
  ],
  statusLines(details: Details) {
    const d = details as Details & NetworkDetails;
    return [
      ['Interface', d.interface],
      ['Addresses', d.addresses.length ? d.addresses.join(' ') : '-'],
      ['Link', d.up ? 'up' : 'down'],
    ];
  },
};
