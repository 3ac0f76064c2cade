/** Image as observers see it: org.crtos.Image1 and its `crtosctl status` lines. */
import type { Details, KindView } from '../view.js';

export interface ImageDetails {
  path: string;
  sha256: string;
}

export const imageView: KindView = {
  iface: 'org.crtos.Image1',
  empty: { path: '', sha256: '' } satisfies ImageDetails,
  properties: [
    { name: 'Path', type: 's', field: 'path' },
    { name: 'SHA256', type: 's', field: 'sha256' },
  ],
  statusLines(details: Details) {
    const d = details as Details & ImageDetails;
    return [
      ['Path', d.path],
      ['SHA256', d.sha256 || '-'],
    ];
  },
};
