/**
 * The one registry of problem codes, fastify style: every code with the sentence that documents it.
 * Each area keeps its own table in codes/ so areas can grow independently; this file joins them.
 */
import { unitCodes } from './codes/units.js';
import { cellConfigCodes } from './codes/cell-config.js';
import { hostCodes } from './codes/host.js';
import { engineCodes } from './codes/engine.js';
import { apiCodes } from './codes/api.js';

export interface CodeInfo {
  /** One line that says what the code means; shown by `crtosctl help-code` and in the README. */
  summary: string;
}

export const CODES = {
  ...unitCodes,
  ...cellConfigCodes,
  ...hostCodes,
  ...engineCodes,
  ...apiCodes,
} satisfies Record<string, CodeInfo>;

export type ProblemCode = keyof typeof CODES;
