/** The kind table: one behaviour per unit kind. Adding a kind is one module and one line here. */
import type { KindName } from '../../units/kinds/common.js';
import type { KindBehaviour } from './behaviour.js';
import { cellBehaviour } from './cell.js';
import { driverBehaviour } from './driver.js';
import { hypervisorBehaviour } from './hypervisor.js';
import { imageBehaviour } from './image.js';
import { loaderBehaviour } from './loader.js';
import { networkBehaviour } from './network.js';

export type { KindBehaviour, KindContext, StopContext, Target } from './behaviour.js';

export const BEHAVIOURS: Record<KindName, KindBehaviour> = {
  Driver: driverBehaviour,
  Hypervisor: hypervisorBehaviour,
  Image: imageBehaviour,
  Cell: cellBehaviour,
  Network: networkBehaviour,
  Loader: loaderBehaviour,
};
