/** kill's --signal: names with or without SIG, any case, or numbers Linux has. */
import { describe, expect, test } from 'vitest';
import { signalNumber } from '../../../src/cli/verbs/kill.js';

const SIGNALS = { SIGHUP: 1, SIGKILL: 9, SIGTERM: 15, SIGUSR1: 10 };

describe('signalNumber', () => {
  test('SIGTERM, TERM, term and 15 are the same signal', () => {
    for (const s of ['SIGTERM', 'TERM', 'term', 'sigterm', '15']) expect(signalNumber(s, SIGNALS)).toBe(15);
    expect(signalNumber('KILL', SIGNALS)).toBe(9);
  });

  test('a name or number that is no signal is undefined', () => {
    for (const s of ['SIGNOPE', 'NOPE', '99', '', '-9']) expect(signalNumber(s, SIGNALS)).toBeUndefined();
  });
});
