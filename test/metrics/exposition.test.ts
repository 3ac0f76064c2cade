import { describe, expect, test } from 'vitest';
import { escapeHelp, escapeLabelValue, formatValue, renderExposition } from '../../src/metrics/exposition.js';

describe('the text exposition format', () => {
  test('label values escape backslash, double quote and line feed, and nothing else', () => {
    expect(escapeLabelValue('a\\b')).toBe('a\\\\b');
    expect(escapeLabelValue('say "hi"')).toBe('say \\"hi\\"');
    expect(escapeLabelValue('two\nlines')).toBe('two\\nlines');
    // A backslash before a quote is escaped first, so it does not swallow the quote's escape.
    expect(escapeLabelValue('\\"\n')).toBe('\\\\\\"\\n');
    expect(escapeLabelValue("it's {a,b} = 1\ttab")).toBe("it's {a,b} = 1\ttab");
  });

  test('HELP escapes backslash and line feed, not quotes', () => {
    expect(escapeHelp('a "b" \\ c\nd')).toBe('a "b" \\\\ c\\nd');
  });

  test('values as Go spells them, NaN and infinities by name', () => {
    expect([0, 1, 0.25, 1e21, -3, NaN, Infinity, -Infinity].map(formatValue)).toEqual(['0', '1', '0.25', '1e+21', '-3', 'NaN', '+Inf', '-Inf']);
  });

  test('each family: HELP, TYPE, then its samples, in the order given', () => {
    const text = renderExposition([
      { name: 'x_total', help: 'Counts "x".', type: 'counter', samples: [{ labels: [['b', 'q"\\\n'], ['a', '1']], value: 2 }] },
      { name: 'y', help: 'Y.', type: 'gauge', samples: [{ labels: [], value: 0.5 }] },
      { name: 'z', help: 'None yet.', type: 'gauge', samples: [] },
    ]);
    expect(text).toBe(
      [
        '# HELP x_total Counts "x".',
        '# TYPE x_total counter',
        'x_total{b="q\\"\\\\\\n",a="1"} 2',
        '# HELP y Y.',
        '# TYPE y gauge',
        'y 0.5',
        '# HELP z None yet.',
        '# TYPE z gauge',
        '',
      ].join('\n'),
    );
  });
});
