/**
 * The signals crtosd sends, queued in the order the engine made them and sent when the event loop
 * next turns, a slice at a time (as systemd sends its unit and job signals from its bus queue).
 * The turn that changes many units at once (a unit set installed, a pass's refresh, a dozen jobs
 * launched) then only queues; the marshalling and writing is spread over the turns after it.
 *
 * A change of an object's state (its PropertiesChanged) replaces one queued for the same object
 * since the last other signal: a unit that changed three times in a turn is announced once, with
 * its last state, and never on the other side of a job or unit signal it came before or after. A
 * trailing change (the manager's counts) goes once the queue has drained.
 */
import { TURN_BUDGET_MS, afterTurn } from '../lib/turns.js';

interface Entry {
  key?: string;
  send: () => void;
}

export class SignalQueue {
  private readonly queue: Entry[] = [];
  /** Changes queued since the last other signal, by object: a newer one replaces its send. */
  private readonly mergeable = new Map<string, Entry>();
  private readonly trailing = new Map<string, () => void>();
  private scheduled = false;
  private stopped = false;

  constructor(
    /** A send that threw (a value that does not marshal: a bug); the queue goes on with the next. */
    private readonly onError: (e: unknown) => void,
    private readonly budgetMs = TURN_BUDGET_MS,
  ) {}

  /** A signal (a job or unit appeared or went): sent after everything queued before it. */
  signal(send: () => void): void {
    if (this.stopped) return;
    this.mergeable.clear();
    this.queue.push({ send });
    this.schedule();
  }

  /** A change of the object `key`: replaces the one queued for it since the last signal. */
  change(key: string, send: () => void): void {
    if (this.stopped) return;
    const queued = this.mergeable.get(key);
    if (queued) {
      queued.send = send;
      return;
    }
    const entry = { key, send };
    this.mergeable.set(key, entry);
    this.queue.push(entry);
    this.schedule();
  }

  /** A change sent once the queue has drained (computed then: the manager's counts). */
  last(key: string, send: () => void): void {
    if (this.stopped) return;
    this.trailing.set(key, send);
    this.schedule();
  }

  /** Drops what is queued and takes nothing more (the service detached). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.mergeable.clear();
    this.trailing.clear();
  }

  /** Entries queued and not yet sent (trailing ones included). */
  get pending(): number {
    return this.queue.length + this.trailing.size;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the loop turned (afterTurn): queued from an I/O callback, one setImmediate flushed in
    // the same iteration, a slice of sends on top of the engine's work that queued them.
    afterTurn(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const until = performance.now() + this.budgetMs;
    while (this.queue.length > 0) {
      const entry = this.queue.shift()!;
      // Sent: a change after this point is queued anew, after it.
      if (entry.key !== undefined && this.mergeable.get(entry.key) === entry) this.mergeable.delete(entry.key);
      this.send(entry.send);
      if (this.queue.length > 0 && performance.now() >= until) {
        this.schedule();
        return;
      }
    }
    const trailing = [...this.trailing.values()];
    this.trailing.clear();
    for (const send of trailing) this.send(send);
  }

  private send(send: () => void): void {
    try {
      send();
    } catch (e) {
      this.onError(e);
    }
  }
}
