/** Link as observers see it: org.crtos.Link1 and its `crtosctl status` lines. */
import type { Details, KindView } from '../view.js';

export interface LinkDetails {
  type: string;
  peers: string[];
  address: string;
  size: string;
  pci: string;
  /** The device in the root cell, when Linux is a peer (a sysfs path), and whether it is there. */
  device: string;
  present: boolean;
}

export const linkView: KindView = {
  iface: 'org.crtos.Link1',
  empty: { type: '', peers: [], address: '', size: '', pci: '', device: '', present: false } satisfies LinkDetails,
  properties: [
    { name: 'Type', type: 's', field: 'type' },
    { name: 'Peers', type: 'as', field: 'peers' },
    { name: 'Address', type: 's', field: 'address' },
    { name: 'Size', type: 's', field: 'size' },
    { name: 'PciAddress', type: 's', field: 'pci' },
    { name: 'Device', type: 's', field: 'device' },
    { name: 'DevicePresent', type: 'b', field: 'present' },
  ],
  statusLines(details: Details) {
    const d = details as Details & LinkDetails;
    return [
      ['Type', d.type],
      ['Peers', d.peers.join(' ') || '-'],
      ['Memory', d.address ? `${d.address} (${d.size})` : '-'],
      ['PCI', d.pci || '-'],
      ['Device', d.device ? `${d.device} (${d.present ? 'present' : 'absent'})` : 'none in the root cell'],
    ];
  },
};
