/**
 * Is a unit file's content text? A NUL byte or a byte sequence that is not UTF-8 means a binary
 * file (an image, a .cell configuration, a core dump) or another encoding (UTF-16 with its BOM):
 * the YAML parsers would report something confusing about it, or accept garbage as a scalar.
 */
import { isUtf8 } from 'node:buffer';

export interface BadByte {
  /** Byte offset of the first NUL or invalid byte. */
  offset: number;
  /** 1-based line and column (in characters) of that byte. */
  line: number;
  column: number;
  nul: boolean;
}

/** The first byte that makes `bytes` not UTF-8 text, or undefined when it is text. */
export function findBadByte(bytes: Buffer): BadByte | undefined {
  const nulAt = bytes.indexOf(0);
  if (nulAt < 0 && isUtf8(bytes)) return undefined; // the usual case, checked natively
  const invalidAt = firstInvalidUtf8(bytes, nulAt < 0 ? bytes.length : nulAt);
  // isUtf8 and the table below agree; offset 0 only if they ever did not.
  const offset = invalidAt ?? Math.max(nulAt, 0);
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  // Everything before `offset` is valid UTF-8, so decoding it counts characters.
  const column = bytes.toString('utf8', lineStart, offset).length + 1;
  return { offset, line, column, nul: invalidAt === undefined };
}

/** Offset of the first byte of an invalid UTF-8 sequence before `end`, or undefined. */
function firstInvalidUtf8(bytes: Buffer, end: number): number | undefined {
  let i = 0;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte → sequence length and the allowed range of the second byte (no overlong forms,
    // no surrogates, nothing above U+10FFFF), as the Unicode standard's table 3-7 gives them.
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > bytes.length) return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]!;
      if (k === 1 ? c < low || c > high : c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return undefined;
}
