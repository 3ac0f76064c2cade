import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { kindColours, renderPlot, tickLabel, tickStep, xmlEscape } from '../../../src/cli/analyze/plot.js';
import type { BootData } from '../../../src/cli/analyze/data.js';
import type { TimelineOperation } from '../../../src/engine/manager-api.js';
import { BOOT, crtosBringUp, unit } from './fixtures.js';

function op(unitId: string, start: number, end: number, over: Partial<TimelineOperation> = {}): TimelineOperation {
  return { unit: unitId, job: 1, jobType: 'start', operation: 'createCell', detail: 'jailhouse cell create /etc/jailhouse/nuttx.cell', start, end, result: 'done', ...over };
}

function data(over: Partial<BootData> = {}): BootData {
  return {
    units: crtosBringUp(),
    operations: [op('nuttx.cell', BOOT + 1_750_000, BOOT + 2_000_000), op('nuttx.cell', BOOT + 2_000_000, BOOT + 2_100_000, { operation: 'startCell', detail: 'jailhouse cell start nuttx' })],
    now: BOOT + 4_000_000,
    originRealtime: 0,
    ...over,
  };
}

/** Elements with a class that lists `name`, by their data-unit. */
function elements(svg: string, name: string): string[] {
  return [...svg.matchAll(/<rect ([^>]*)>/g)].map((m) => m[1] ?? '').filter((a) => new RegExp(`class="(?:[^"]* )?${name}(?: [^"]*)?"`).test(a));
}
const attr = (el: string, name: string): string | undefined => new RegExp(`${name}="([^"]*)"`).exec(el)?.[1];

describe('analyze plot', () => {
  test('one unit bar per unit, from activating to active, in the order they began, each kind its own colour', () => {
    const svg = renderPlot(data());
    const bars = elements(svg, 'unit');
    expect(bars.map((b) => attr(b, 'data-unit'))).toEqual(['jailhouse.driver', 'nuttx.image', 'jailhouse.hypervisor', 'nuttx.cell', 'shadow.driver', 'hello.loader']);
    // The span is 3.75 s over 1000 px: the cell's 2 s is 533.33 px from 1.7 s (453.33 px right of the left margin, 20 px).
    const cell = bars[3]!;
    expect(Number(attr(cell, 'x'))).toBeCloseTo(20 + 453.33, 1);
    expect(Number(attr(cell, 'width'))).toBeCloseTo(533.33, 1);
    const colour = (id: string) => attr(bars.find((b) => attr(b, 'data-unit') === id)!, 'fill');
    expect(colour('jailhouse.driver')).toBe(colour('shadow.driver'));
    expect(new Set(bars.map((b) => attr(b, 'fill'))).size).toBe(5);
    expect(svg).toContain('>nuttx.cell (2s)</text>');
  });

  test('operations are thinner bars inside their unit, with what they ran as a tooltip', () => {
    const svg = renderPlot(data());
    const ops = elements(svg, 'operation');
    expect(ops.map((o) => attr(o, 'data-unit'))).toEqual(['nuttx.cell', 'nuttx.cell']);
    expect(Number(attr(ops[0]!, 'height'))).toBeLessThan(Number(attr(elements(svg, 'unit')[0]!, 'height')));
    expect(Number(attr(ops[0]!, 'x'))).toBeCloseTo(20 + (1_750_000 * 1000) / 3_750_000, 1);
    expect(svg).toContain('<title>createCell jailhouse cell create /etc/jailhouse/nuttx.cell: @1.750s +250ms</title>');
  });

  test('a failed unit ends at its failure, one still activating at now, one never started is a stub', () => {
    const units = [
      unit('a.driver', BOOT, BOOT + 100_000),
      unit('bad.cell', BOOT + 100_000, 0, { deactivated: BOOT + 400_000, time: 300_000, activeState: 'failed' }),
      unit('slow.loader', BOOT + 200_000, 0),
      unit('idle.network', 0, 0),
    ];
    const svg = renderPlot(data({ units, operations: [], now: BOOT + 1_000_000 }));
    const bars = elements(svg, 'unit');
    expect(bars.map((b) => [attr(b, 'data-unit'), attr(b, 'class')])).toEqual([
      ['a.driver', 'unit active'],
      ['bad.cell', 'unit failed'],
      ['slow.loader', 'unit activating'],
      ['idle.network', 'unit never'],
    ]);
    expect(svg).toContain('>bad.cell (failed after 300ms)</text>');
    expect(svg).toContain('>slow.loader (activating, 800ms so far)</text>');
    expect(svg).toContain('>idle.network (not started)</text>');
    // slow.loader reaches now, the chart's right end.
    const slow = bars[2]!;
    expect(Number(attr(slow, 'x')) + Number(attr(slow, 'width'))).toBeCloseTo(1020, 1);
  });

  test('a time axis with ticks at 1, 2 or 5 × 10ⁿ, labelled', () => {
    expect(tickStep(3_750_000)).toBe(500_000);
    expect(tickStep(900)).toBe(100);
    expect(tickStep(10_000_000)).toBe(1_000_000);
    expect(tickLabel(0, 500_000)).toBe('0');
    expect(tickLabel(1_500_000, 500_000)).toBe('1.5s');
    expect(tickLabel(2_000_000, 1_000_000)).toBe('2s');
    expect(tickLabel(300_000, 100_000)).toBe('0.3s');
    expect(tickLabel(40_000, 20_000)).toBe('40ms');
    expect(tickLabel(500, 100)).toBe('0.5ms');
    const svg = renderPlot(data());
    const labels = [...svg.matchAll(/text-anchor="middle">([^<]*)</g)].map((m) => m[1]);
    expect(labels).toEqual(['0', '0.5s', '1.0s', '1.5s', '2.0s', '2.5s', '3.0s', '3.5s']);
  });

  test('names are escaped and the result is well-formed XML that xmllint accepts', () => {
    expect(xmlEscape(`<a & "b" 'c'>\u0001`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
    const svg = renderPlot(
      data({
        units: [unit('x<&>.cell', BOOT, BOOT + 10)],
        operations: [op('x<&>.cell', BOOT, BOOT + 5, { detail: `echo "</svg>" & 'more'\u0007` })],
      }),
    );
    expect(svg).toContain('data-unit="x&lt;&amp;&gt;.cell"');
    expect(() => execFileSync('xmllint', ['--noout', '-'], { input: svg, stdio: ['pipe', 'pipe', 'pipe'] })).not.toThrow();
    expect(svg).not.toMatch(/href=|url\(|@import|<style/);
  });

  test('kind colours follow the kinds names, so a plot of the same set always looks the same', () => {
    const a = kindColours([unit('x.loader', 1, 2), unit('y.cell', 1, 2)]);
    const b = kindColours([unit('y.cell', 1, 2), unit('x.loader', 1, 2)]);
    expect([...a]).toEqual([...b]);
    expect([...a.keys()]).toEqual(['cell', 'loader']);
  });

  test('the title says when the bring-up began and how it ended', () => {
    const svg = renderPlot(data({ originRealtime: Date.UTC(2026, 10, 30, 9, 0, 0) * 1000 }));
    expect(svg).toMatch(/began \w{3} 2026-11-30 \d\d:00:00/);
    expect(svg).toContain('6 units: 6 active (the last after 3.750s), 0 failed, 0 activating, 0 not started');
  });
});
