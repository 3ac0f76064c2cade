/** The cell kind as the registry holds it: its pure definition and how observers see it. */
import type { KindModule } from '../registry.js';
import { cellDefinition } from './spec.js';
import { cellView } from './view.js';

export const cellKind: KindModule = { definition: cellDefinition as unknown as KindModule['definition'], view: cellView };
