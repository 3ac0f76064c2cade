/**
 * One record as pino writes it (a JSON line), and what every sink makes of it: the syslog
 * priority, the daemon-wide or unit line, and the text of a record without its time and level.
 */
import type { LogLine } from '../../engine/manager-api.js';

/** A parsed pino line: `level` (10 trace … 60 fatal), `time` (ms since the epoch), `msg`, `unit`, and any other field. */
export type LogRecord = Record<string, unknown> & { level: number; time: number; msg: string; unit?: string };

/** Fields every record has or pino adds, which the sinks place themselves (never as extra fields). */
export const PLACED_FIELDS: ReadonlySet<string> = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'unit']);

export function parseRecord(json: string): LogRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const rec = raw as Record<string, unknown>;
  return {
    ...rec,
    level: typeof rec.level === 'number' ? rec.level : 30,
    time: typeof rec.time === 'number' ? rec.time : Date.now(),
    msg: typeof rec.msg === 'string' ? rec.msg : rec.msg === undefined ? '' : JSON.stringify(rec.msg),
    ...(typeof rec.unit === 'string' ? { unit: rec.unit } : {}),
  } as LogRecord;
}

/**
 * pino's level → syslog priority (sd-daemon(3), journald's PRIORITY): fatal 2 (crit), error 3
 * (err), warn 4 (warning), info 6 (info), debug and trace 7 (debug). crtosd has no "notice" level.
 */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** pino's level → the level of a unit log line (LogLine), as GetUnitLog reports them. */
export function lineLevel(level: number): LogLine['level'] {
  if (level >= 50) return 'error';
  if (level >= 40) return 'warn';
  if (level >= 30) return 'info';
  return 'debug';
}

/** The fields beyond the placed ones, as `key=value` (strings bare, anything else as JSON). */
export function extraFields(rec: LogRecord): string {
  return Object.entries(rec)
    .filter(([k]) => !PLACED_FIELDS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** `nuttx.cell: start failed errno=EBUSY`: a record without time and level (those the sink or the journal adds). */
export function recordText(rec: LogRecord): string {
  const extra = extraFields(rec);
  return `${rec.unit ? `${rec.unit}: ` : ''}${rec.msg}${extra ? ` ${extra}` : ''}`;
}
