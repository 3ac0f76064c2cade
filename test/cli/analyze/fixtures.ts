/** Hand-made bring-ups for the pure renderers of src/cli/analyze/: times in µs since boot. */
import type { UnitTimes } from '../../../src/cli/analyze/data.js';

/** A unit that left inactive at `activating` and got to active at `activated` (0: not yet). */
export function unit(id: string, activating: number, activated: number, over: Partial<UnitTimes> = {}): UnitTimes {
  return {
    id,
    kind: id.slice(id.lastIndexOf('.') + 1),
    activeState: activated > 0 ? 'active' : activating > 0 ? 'activating' : 'inactive',
    activating,
    activated,
    deactivating: 0,
    deactivated: 0,
    time: activated > 0 && activating > 0 ? activated - activating : 0,
    requires: [],
    wants: [],
    after: [],
    ...over,
  };
}

const S = 1_000_000;
const B = 100 * S;

/**
 * The cRTOS bring-up, simplified: the driver, then the hypervisor (1.5 s), the image and the cell
 * (2 s), the shadow driver beside it, the loader after both.
 */
export function crtosBringUp(): UnitTimes[] {
  return [
    unit('jailhouse.driver', B, B + 200_000),
    unit('jailhouse.hypervisor', B + 200_000, B + 1_700_000, { after: ['jailhouse.driver'], requires: ['jailhouse.driver'] }),
    unit('nuttx.image', B + 10_000, B + 60_000),
    unit('nuttx.cell', B + 1_700_000, B + 3_700_000, { after: ['jailhouse.hypervisor', 'nuttx.image'], requires: ['jailhouse.hypervisor', 'nuttx.image'] }),
    unit('shadow.driver', B + 1_700_000, B + 1_900_000, { after: ['jailhouse.hypervisor'], requires: ['jailhouse.hypervisor'] }),
    unit('hello.loader', B + 3_700_000, B + 3_750_000, { after: ['nuttx.cell', 'shadow.driver'], requires: ['nuttx.cell', 'shadow.driver'], wants: ['nuttx.image'] }),
  ];
}

export const BOOT = B;
