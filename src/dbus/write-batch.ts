/**
 * One write per event-loop turn on the bus socket. dbus-next writes each message it sends at
 * once, a system call per message; a burst (the PropertiesChanged and job signals of a bring-up,
 * the answers to a slice of calls) is held while the turn runs and leaves in one write when the
 * loop next turns, before any later message, so the order on the wire is the order sent.
 */

/** The socket under the bus connection: a Writable can hold writes back (cork) and let them go (uncork). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Returns what to call before each send: the first send of a turn corks the stream and schedules
 * its uncorking. A stream that cannot cork (some transports) is written to as before.
 */
export function writesBatchedPerTurn(stream: Partial<Corkable> | undefined): () => void {
  let corked = false;
  if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return () => undefined;
  const writable = stream as Corkable;
  return () => {
    if (corked) return;
    corked = true;
    writable.cork();
    setImmediate(() => {
      corked = false;
      writable.uncork();
    });
  };
}

/** The socket dbus-next's MessageBus writes to (not part of its typed API). */
export function busStream(bus: object): Partial<Corkable> | undefined {
  return (bus as { _connection?: { stream?: Partial<Corkable> } })._connection?.stream;
}
