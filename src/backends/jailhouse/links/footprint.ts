/**
 * How much memory a link takes and where its sections lie in its window. Sizes are rounded up to
 * the page here, once, because the hypervisor refuses regions that are not page multiples; every
 * other part (placement, generation, facts) reads the rounded sizes from here.
 */
import { PAGE_SIZE } from './defaults.js';
import type { IvshmemLinkRequest } from './request.js';

export const alignUp = (value: bigint, align: bigint): bigint => (align <= 1n ? value : ((value + align - 1n) / align) * align);
export const roundUpToPage = (size: bigint): bigint => alignUp(size, PAGE_SIZE);

type Sized = Pick<IvshmemLinkRequest, 'stateSize' | 'rwSize' | 'outputSize' | 'peers'>;

/** The section sizes as the configurations carry them (page multiples). */
export function sectionSizes(link: Sized): { state: bigint; rw: bigint; output: bigint } {
  return { state: roundUpToPage(link.stateSize), rw: roundUpToPage(link.rwSize), output: roundUpToPage(link.outputSize) };
}

/** state + rw + peers × output, each rounded up to the page. */
export function linkFootprint(link: Sized): bigint {
  const s = sectionSizes(link);
  return s.state + s.rw + BigInt(link.peers.length) * s.output;
}

/** One section of a window: its offset from the window's base and its size (0: the section is absent). */
export interface SectionSpan {
  offset: bigint;
  size: bigint;
}

/** The 2 + peers sections in the order the configuration lists them: state, R/W, output 0..n-1. */
export function sectionSpans(link: Sized): SectionSpan[] {
  const s = sectionSizes(link);
  const spans: SectionSpan[] = [
    { offset: 0n, size: s.state },
    { offset: s.state, size: s.rw },
  ];
  link.peers.forEach((_, k) => spans.push({ offset: s.state + s.rw + BigInt(k) * s.output, size: s.output }));
  return spans;
}
