/**
 * Which sink crtosd's records go to, chosen once at start (`--log-format`). Pure: what the machine
 * offers (the journal socket, systemd's variables, a terminal) is passed in.
 *
 * auto: the journal when its socket exists; else, under systemd, stderr lines with sd-daemon(3)
 * `<N>` priority prefixes (systemd sets INVOCATION_ID for every service it runs, and JOURNAL_STREAM
 * when stdout or stderr is connected to the journal); else readable lines on a terminal; else
 * pino's JSON lines (what crtosd printed before there was a choice).
 */
export const LOG_FORMATS = ['auto', 'journal', 'syslog', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type SinkFormat = Exclude<LogFormat, 'auto'>;

export interface Surroundings {
  /** The journal's native socket exists. */
  journalSocket: boolean;
  env: NodeJS.ProcessEnv;
  /** The records' stream is a terminal. */
  isTTY: boolean;
}

export function underSystemd(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.JOURNAL_STREAM || env.INVOCATION_ID);
}

/** The sink to use, and a note when the one asked for cannot be had. */
export function chooseSink(requested: LogFormat, s: Surroundings): { format: SinkFormat; note?: string } {
  if (requested === 'journal' && !s.journalSocket) {
    return { format: 'syslog', note: "--log-format journal: journald's socket is not there; logging to stderr with <N> priority prefixes" };
  }
  if (requested !== 'auto') return { format: requested };
  if (s.journalSocket) return { format: 'journal' };
  if (underSystemd(s.env)) return { format: 'syslog' };
  return { format: s.isTTY ? 'text' : 'json' };
}
