/**
 * pino, bundled: JSON lines (with `unit` as a field) when stdout is not a terminal; readable lines
 * from a tiny formatter when it is (no pino-pretty: its worker transport does not survive esbuild).
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './args.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };

/** One JSON log line → `12:00:01.123 INFO  nuttx.cell: started` (coloured when asked). */
export function formatLine(json: string, colour: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const time = new Date(typeof rec.time === 'number' ? rec.time : Date.now()).toISOString().slice(11, 23);
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const unit = typeof rec.unit === 'string' ? `${rec.unit}: ` : '';
  const extra = Object.entries(rec)
    .filter(([k]) => !['level', 'time', 'pid', 'hostname', 'msg', 'unit'].includes(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const lvl = colour ? `\x1b[${LEVEL_COLOURS[level] ?? '0'}m${name}\x1b[0m` : name;
  return `${time} ${lvl} ${unit}${String(rec.msg ?? '')}${extra ? ` ${extra}` : ''}`;
}

export function createLogger(level: LogLevel, out: NodeJS.WriteStream = process.stdout): Logger {
  const base = { level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime };
  if (!out.isTTY) return pino(base, out);
  const colour = out.hasColors?.() ?? false;
  return pino(base, { write: (line: string) => void out.write(`${formatLine(line.trimEnd(), colour)}\n`) });
}
