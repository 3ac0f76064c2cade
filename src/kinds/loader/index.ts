/** The loader kind as the registry holds it: its pure definition and how observers see it. */
import type { KindModule } from '../registry.js';
import { loaderDefinition } from './spec.js';
import { loaderView } from './view.js';

export const loaderKind: KindModule = { definition: loaderDefinition as unknown as KindModule['definition'], view: loaderView };
