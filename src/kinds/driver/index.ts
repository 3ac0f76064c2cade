/** The driver kind as the registry holds it: its pure definition and how observers see it. */
import type { KindModule } from '../registry.js';
import { driverDefinition } from './spec.js';
import { driverView } from './view.js';

export const driverKind: KindModule = { definition: driverDefinition as unknown as KindModule['definition'], view: driverView };
