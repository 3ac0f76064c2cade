/** The link kind as the registry holds it: its pure definition and how observers see it. */
import type { KindModule } from '../registry.js';
import { linkDefinition } from './spec.js';
import { linkView } from './view.js';

export const linkKind: KindModule = { definition: linkDefinition as unknown as KindModule['definition'], view: linkView };
