/**
 * What an operator asks of the engine beside jobs and reloads (crtosctl reset-failed, kill, mask,
 * unmask): the Manager implements it, and the D-Bus service offers it when the ManagerApi it serves
 * has it (a test's in-memory manager need not).
 */
import type { MaskChange, MaskScope } from './masks.js';

export type { MaskChange, MaskScope };

/** Which processes `kill` signals: the unit's main process, or every process of its group. */
export type KillWhom = 'main' | 'all';

export interface OperatorApi {
  /**
   * systemd's reset-failed: a failed unit becomes inactive (and is not started until asked), its
   * result and last error are cleared; for every unit named, its start-limit counter, restart
   * count and health counts start afresh. Every unit when `id` is undefined. Returns the ids of
   * units that were failed; throws ENGINE_NO_SUCH_UNIT for an unknown id.
   */
  resetFailed(id?: string): string[];
  /** Sends `signal` to a unit's process(es); how many were signalled. Refuses units that run no process. */
  kill(id: string, whom: KillWhom, signal: NodeJS.Signals): Promise<number>;
  mask(ids: readonly string[], scope: MaskScope): MaskChange[];
  unmask(ids: readonly string[], scope: MaskScope): MaskChange[];
}

/** Whether a ManagerApi also takes the operator's requests. */
export function hasOperatorApi(m: object): m is OperatorApi {
  return ['resetFailed', 'kill', 'mask', 'unmask'].every((k) => typeof (m as Record<string, unknown>)[k] === 'function');
}
