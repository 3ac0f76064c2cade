/** Driver as observers see it: org.crtos.Driver1 and its `crtosctl status` lines. */
import type { Details, KindView } from '../view.js';

export interface DriverDetails {
  module: string;
  parameters: Record<string, string>;
  /** Loaded according to /proc/modules. */
  loaded: boolean;
}

export const driverView: KindView = {
  iface: 'org.crtos.Driver1',
  empty: { module: '', parameters: {}, loaded: false } satisfies DriverDetails,
  properties: [
    { name: 'Module', type: 's', field: 'module' },
    { name: 'Parameters', type: 'a{ss}', field: 'parameters' },
    { name: 'Loaded', type: 'b', field: 'loaded' },
  ],
  statusLines(details: Details) {
    const d = details as Details & DriverDetails;
    const params = Object.entries(d.parameters).map(([k, v]) => `${k}=${v}`);
    return [
      ['Module', d.module],
      ['Parameters', params.length ? params.join(' ') : '-'],
      ['In kernel', d.loaded ? 'yes' : 'no'],
    ];
  },
};
