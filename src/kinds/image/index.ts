/** The image kind as the registry holds it: its pure definition and how observers see it. */
import type { KindModule } from '../registry.js';
import { imageDefinition } from './spec.js';
import { imageView } from './view.js';

export const imageKind: KindModule = { definition: imageDefinition as unknown as KindModule['definition'], view: imageView };
