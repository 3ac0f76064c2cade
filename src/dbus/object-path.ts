/**
 * systemd's bus-label escaping, so unit object paths look like systemd's:
 * `nuttx.cell` → `/org/crtos/unit/nuttx_2ecell`. Every byte outside [A-Za-z0-9] becomes `_` and two
 * lower-case hex digits; a leading digit is escaped too, because a path element may not start with
 * one in some bindings; the empty string is `_`.
 */
import { JOB_PATH_PREFIX, UNIT_PATH_PREFIX } from './names.js';

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

export function busLabelEscape(text: string): string {
  if (text === '') return '_';
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  bytes.forEach((c, i) => {
    if (isAlpha(c) || (isDigit(c) && i > 0)) out += String.fromCharCode(c);
    else out += '_' + c.toString(16).padStart(2, '0');
  });
  return out;
}

export function busLabelUnescape(label: string): string {
  if (label === '_') return '';
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const hex = label.slice(i + 1, i + 3);
    if (label[i] === '_' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      // An invalid escape is taken literally, as systemd does.
      bytes.push(...Buffer.from(label[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function unitObjectPath(unitId: string): string {
  return UNIT_PATH_PREFIX + busLabelEscape(unitId);
}

/** The unit id of a unit object path, or undefined when the path is not one. */
export function unitIdFromPath(path: string): string | undefined {
  if (!path.startsWith(UNIT_PATH_PREFIX)) return undefined;
  const label = path.slice(UNIT_PATH_PREFIX.length);
  if (label === '' || label.includes('/')) return undefined;
  return busLabelUnescape(label);
}

export function jobObjectPath(jobId: number): string {
  return JOB_PATH_PREFIX + String(jobId);
}

export function jobIdFromPath(path: string): number | undefined {
  if (!path.startsWith(JOB_PATH_PREFIX)) return undefined;
  const rest = path.slice(JOB_PATH_PREFIX.length);
  return /^[1-9][0-9]*$/.test(rest) ? Number(rest) : undefined;
}
