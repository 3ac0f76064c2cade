/**
 * Imported first by crtosd.entry.ts, so it runs before the rest of crtosd is evaluated: loading
 * crtosd alone survives enough to double the young generation twice (heap.ts says why it matters),
 * and nothing may have been optimized before the optimizing compiler is left out.
 */
import { capYoungGeneration, leaveOutOptimizer } from './heap.js';

capYoungGeneration();
leaveOutOptimizer();
