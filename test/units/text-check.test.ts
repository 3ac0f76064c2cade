import { describe, expect, it } from 'vitest';
import { findBadByte } from '../../src/units/text-check.js';

const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('findBadByte', () => {
  it('accepts UTF-8 text, with a BOM and characters of every length', () => {
    expect(findBadByte(bytes([0xef, 0xbb, 0xbf], 'name: é € 𝄞\n'))).toBeUndefined();
    expect(findBadByte(Buffer.alloc(0))).toBeUndefined();
  });

  it('finds the first NUL byte, with its line and its column in characters', () => {
    expect(findBadByte(bytes([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]))).toEqual({ offset: 4, line: 1, column: 5, nul: true });
    expect(findBadByte(bytes('kind: Image\nname: é', [0]))).toEqual({ offset: 20, line: 2, column: 8, nul: true });
  });

  it('finds invalid UTF-8: stray continuation, overlong forms, surrogates, beyond U+10FFFF, a sequence cut short', () => {
    expect(findBadByte(bytes('a\nb: ', [0x80]))).toMatchObject({ offset: 5, line: 2, column: 4, nul: false });
    expect(findBadByte(bytes('x', [0xc0, 0xaf]))).toMatchObject({ offset: 1 }); // overlong '/'
    expect(findBadByte(bytes('x', [0xe0, 0x80, 0xaf]))).toMatchObject({ offset: 1 }); // overlong
    expect(findBadByte(bytes('x', [0xed, 0xa0, 0x80]))).toMatchObject({ offset: 1 }); // a UTF-16 surrogate
    expect(findBadByte(bytes('x', [0xf4, 0x90, 0x80, 0x80]))).toMatchObject({ offset: 1 }); // > U+10FFFF
    expect(findBadByte(bytes('x€', [0xe2, 0x82]))).toMatchObject({ offset: 4, column: 3 });
  });

  it('reports a UTF-16 file at its byte order mark, and whichever of NUL or invalid byte comes first', () => {
    expect(findBadByte(Buffer.from('\ufeffkind: Image\n', 'utf16le'))).toMatchObject({ offset: 0, line: 1, column: 1, nul: false });
    expect(findBadByte(bytes('ab', [0xff], 'c', [0]))).toMatchObject({ offset: 2, nul: false });
    expect(findBadByte(bytes('ab', [0], 'c', [0xff]))).toMatchObject({ offset: 2, nul: true });
  });
});
