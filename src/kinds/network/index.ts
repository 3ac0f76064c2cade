/** The network kind as the registry holds it: its pure definition and how observers see it. */
import type { KindModule } from '../registry.js';
import { networkDefinition } from './spec.js';
import { networkView } from './view.js';

export const networkKind: KindModule = { definition: networkDefinition as unknown as KindModule['definition'], view: networkView };
