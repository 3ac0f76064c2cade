import { describe, expect, it } from 'vitest';
import { nextTurn } from '../../src/lib/turns.js';
import { SignalQueue } from '../../src/dbus/signal-queue.js';

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await nextTurn();
};

/** A queue, and what its sends put down. */
function recording() {
  return { sent: [] as string[], q: new SignalQueue(() => undefined) };
}

describe('SignalQueue', () => {
  it('sends nothing in the turn that queued, then everything in the order queued', async () => {
    const { sent, q } = recording();
    q.signal(() => sent.push('UnitNew a'));
    q.change('a', () => sent.push('a changed'));
    q.signal(() => sent.push('JobNew 1'));
    expect(sent).toEqual([]);
    await turns(1);
    expect(sent).toEqual(['UnitNew a', 'a changed', 'JobNew 1']);
  });

  it('sends an object changed several times between two signals once, with its last change, where it first changed', async () => {
    const { sent, q } = recording();
    q.change('a', () => sent.push('a activating'));
    q.change('b', () => sent.push('b changed'));
    q.change('a', () => sent.push('a active'));
    await turns(1);
    expect(sent).toEqual(['a active', 'b changed']);
  });

  it('never moves a change across a signal', async () => {
    const { sent, q } = recording();
    q.change('a', () => sent.push('a active'));
    q.signal(() => sent.push('JobRemoved a'));
    q.change('a', () => sent.push('a stopping'));
    await turns(1);
    expect(sent).toEqual(['a active', 'JobRemoved a', 'a stopping']);
  });

  it('queues a change made after its object was sent anew, after what was sent', async () => {
    const { sent, q } = recording();
    q.change('a', () => sent.push('a 1'));
    await turns(1);
    q.change('a', () => sent.push('a 2'));
    await turns(1);
    expect(sent).toEqual(['a 1', 'a 2']);
  });

  it('sends a trailing change once, after the queue drained', async () => {
    const { sent, q } = recording();
    q.last('manager', () => sent.push('manager 1'));
    q.signal(() => sent.push('UnitNew a'));
    q.last('manager', () => sent.push('manager 2'));
    q.signal(() => sent.push('UnitNew b'));
    await turns(1);
    expect(sent).toEqual(['UnitNew a', 'UnitNew b', 'manager 2']);
  });

  it('spreads a long queue over several turns once a slice used its budget, keeping the order', async () => {
    const sent: number[] = [];
    // A budget of 0 ms: one entry per turn.
    const q = new SignalQueue(() => undefined, 0);
    for (let i = 0; i < 3; i++) q.signal(() => sent.push(i));
    await turns(1);
    expect(sent).toEqual([0]);
    await turns(2);
    expect(sent).toEqual([0, 1, 2]);
  });

  it('reports a send that throws and goes on with the next', async () => {
    const sent: string[] = [];
    const errors: unknown[] = [];
    const q = new SignalQueue((e) => errors.push(e));
    q.signal(() => {
      throw new Error('does not marshal');
    });
    q.signal(() => sent.push('next'));
    await turns(1);
    expect(errors).toHaveLength(1);
    expect(sent).toEqual(['next']);
  });

  it('drops what is queued when stopped, and takes nothing more', async () => {
    const { sent, q } = recording();
    q.signal(() => sent.push('queued'));
    q.last('m', () => sent.push('trailing'));
    q.stop();
    q.change('a', () => sent.push('late'));
    await turns(2);
    expect(sent).toEqual([]);
    expect(q.pending).toBe(0);
  });
});
