/**
 * The one registry of problem codes, fastify style: every code with the sentence that documents it
 * and, where it differs from the default, how it crosses crtosd's D-Bus API. Each area keeps its
 * own table in codes/ so areas can grow independently; this file joins them.
 */
import { unitCodes } from './codes/units.js';
import { cellConfigCodes } from './codes/cell-config.js';
import { hostCodes } from './codes/host.js';
import { engineCodes } from './codes/engine.js';
import { apiCodes } from './codes/api.js';
import { factsCodes } from './codes/facts.js';
import { ERRORS } from '../dbus/names.js';

/** What crtosctl's client knows of a D-Bus error reply when it turns it into a problem. */
export interface BusErrorContext {
  /** The method that failed (`StartUnit`). */
  member: string;
  /** The error name of the reply. */
  error: string;
  /** The error message of the reply. */
  text: string;
  /** The bus address crtosctl used. */
  address: string;
}

/** How problems of one code cross the D-Bus API, in both directions. */
export interface DbusMapping {
  /** The error name of crtosd's reply to a call that failed with a problem of this code. */
  replyError?: string;
  /**
   * Error names crtosctl's client reports as this code (only API_ codes claim any); `'*'` takes
   * every name no other code claims.
   */
  fromErrors?: readonly string[];
  /** The client's message for such a reply, and a hint. */
  message?(e: BusErrorContext): string;
  hint?: string;
}

export interface CodeInfo {
  /** One line that says what the code means; shown by `crtosctl help-code` and in the README. */
  summary: string;
  /** Unset: replies carry org.crtos.Manager1.Failed and no error name becomes this code. */
  dbus?: DbusMapping;
}

export const CODES = {
  ...unitCodes,
  ...cellConfigCodes,
  ...hostCodes,
  ...engineCodes,
  ...apiCodes,
  ...factsCodes,
} satisfies Record<string, CodeInfo>;

export type ProblemCode = keyof typeof CODES;

/** The error name crtosd replies with when a call fails with a problem of this code. */
export function replyErrorOf(code: ProblemCode): string {
  return (CODES[code] as CodeInfo).dbus?.replyError ?? ERRORS.failed;
}
