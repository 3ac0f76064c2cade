/** The hypervisor kind as the registry holds it: its pure definition and how observers see it. */
import type { KindModule } from '../registry.js';
import { hypervisorDefinition } from './spec.js';
import { hypervisorView } from './view.js';

export const hypervisorKind: KindModule = { definition: hypervisorDefinition as unknown as KindModule['definition'], view: hypervisorView };
