/**
 * crtosd's log: pino, bundled, writing each record to the sink chosen at start (log/format.ts):
 * the journal over its native protocol (log/journal-entry.ts, log/journal-socket.ts), stderr
 * lines with `<N>` priority prefixes under systemd, pino's JSON lines (with `unit` as a field), or
 * readable lines from a tiny formatter on a terminal (no pino-pretty: its worker transport does
 * not survive esbuild). Records naming no unit are also kept for `crtosctl logs` (log/recent.ts);
 * with the journal sink, loaders' output lines go to the journal under their own names.
 */
import { existsSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { LogLevel } from './args.js';
import type { LogLine } from '../engine/manager-api.js';
import type { LoaderLine } from '../engine/loader-output.js';
import { chooseSink, type LogFormat, type SinkFormat } from './log/format.js';
import { lineLevel, parseRecord, recordText, syslogPriority, type LogRecord } from './log/record.js';
import { encodeEntry, loaderFields, recordFields } from './log/journal-entry.js';
import { JOURNAL_SOCKET, journalSender, type DatagramSender } from './log/journal-socket.js';
import { RecentLines } from './log/recent.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };
const IDENTIFIER = 'crtosd';

function textLine(rec: LogRecord, colour: boolean): string {
  const time = new Date(rec.time).toISOString().slice(11, 23);
  const name = (LEVEL_NAMES[rec.level] ?? String(rec.level)).padEnd(5);
  const lvl = colour ? `\x1b[${LEVEL_COLOURS[rec.level] ?? '0'}m${name}\x1b[0m` : name;
  return `${time} ${lvl} ${recordText(rec)}`;
}

/** One JSON log line → `12:00:01.123 INFO  nuttx.cell: started` (coloured when asked). */
export function formatLine(json: string, colour: boolean): string {
  const rec = parseRecord(json);
  return rec ? textLine(rec, colour) : json;
}

/** A record as sd-daemon(3) stderr lines: every line of it prefixed `<N>`, so none falls to the default priority. */
export function syslogLines(rec: LogRecord): string {
  const p = `<${syslogPriority(rec.level)}>`;
  return `${recordText(rec)
    .split('\n')
    .map((l) => `${p}${l}`)
    .join('\n')}\n`;
}

export interface LoggerOptions {
  format?: LogFormat;
  env?: NodeJS.ProcessEnv;
  /** Where records go for json and text (default stdout). */
  out?: NodeJS.WritableStream & { isTTY?: boolean; hasColors?(): boolean };
  /** Where syslog-prefixed lines go, and journal trouble (default stderr). */
  err?: NodeJS.WritableStream;
  /** The journal's native socket; CRTOS_JOURNAL_SOCKET overrides it (tests run a private journald). */
  journalSocket?: string;
}

export interface CrtosLog {
  logger: Logger;
  format: SinkFormat;
  /** The daemon-wide lines kept, oldest first. */
  recent(): LogLine[];
  /** A loader's output line: to the journal under the loader's name (other sinks show it through the unit's log). */
  loaderLine(line: LoaderLine): void;
  close(): void;
}

export function createLogger(level: LogLevel, opts: LoggerOptions = {}): CrtosLog {
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const socket = env.CRTOS_JOURNAL_SOCKET || opts.journalSocket || JOURNAL_SOCKET;
  const chosen = chooseSink(opts.format ?? 'auto', { journalSocket: existsSync(socket), env, isTTY: out.isTTY === true });
  const colour = out.hasColors?.() ?? false;
  const recent = new RecentLines();
  const trouble = (message: string) => void err.write(`<4>${IDENTIFIER}: ${message}\n`);
  const journal: DatagramSender | undefined = chosen.format === 'journal' ? journalSender(socket, trouble) : undefined;

  const write = (json: string): void => {
    const rec = parseRecord(json);
    if (!rec) {
      out.write(json);
      return;
    }
    if (!rec.unit) recent.push({ time: rec.time * 1000, level: lineLevel(rec.level), message: recordText(rec) });
    switch (chosen.format) {
      case 'journal':
        if (journal?.send(encodeEntry(recordFields(rec, { identifier: IDENTIFIER, pid: process.pid })))) return;
        if (journal?.alive) return; // dropped and counted: reported when the queue drains
        err.write(syslogLines(rec));
        return;
      case 'syslog':
        err.write(syslogLines(rec));
        return;
      case 'text':
        out.write(`${textLine(rec, colour)}\n`);
        return;
      case 'json':
        out.write(json.endsWith('\n') ? json : `${json}\n`);
    }
  };
  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime }, { write });
  if (chosen.note) logger.warn(chosen.note);
  return {
    logger,
    format: chosen.format,
    recent: () => recent.all(),
    loaderLine(line) {
      if (journal?.alive) journal.send(encodeEntry(loaderFields(line)));
    },
    close: () => journal?.close(),
  };
}
