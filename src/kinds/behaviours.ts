/** The kind table: one behaviour per unit kind. Adding a kind is one module and one line here. */
import type { KindName } from './spec-common.js';
import type { KindBehaviour } from './behaviour.js';
import { cellBehaviour } from './cell/behaviour.js';
import { driverBehaviour } from './driver/behaviour.js';
import { hypervisorBehaviour } from './hypervisor/behaviour.js';
import { imageBehaviour } from './image/behaviour.js';
import { loaderBehaviour } from './loader/behaviour.js';
import { networkBehaviour } from './network/behaviour.js';

export type { KindBehaviour, KindContext, StopContext, Target } from './behaviour.js';

export const BEHAVIOURS: Record<KindName, KindBehaviour> = {
  Driver: driverBehaviour,
  Hypervisor: hypervisorBehaviour,
  Image: imageBehaviour,
  Cell: cellBehaviour,
  Network: networkBehaviour,
  Loader: loaderBehaviour,
};
