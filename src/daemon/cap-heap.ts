/**
 * Imported first by crtosd.entry.ts, so it runs before the rest of crtosd is evaluated: loading
 * crtosd alone survives enough to double the young generation twice (heap.ts says why it matters).
 */
import { capYoungGeneration } from './heap.js';

capYoungGeneration();
