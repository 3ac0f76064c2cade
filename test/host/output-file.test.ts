/**
 * A loader's output file: followed line by line, rotated by copy-truncate at its cap while the
 * loader keeps writing to it through the descriptor it was started with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLinuxHost, type OutputFollower, type ProcessIdentity } from '../../src/host/index.js';
import { tell } from '../sim/helpers.js';
import { changesOf, until, type WakeSource } from '../helpers/wait-for.js';


const host = createLinuxHost({ exitPollMs: 50 });
let tmp: string;
const followers: OutputFollower[] = [];
const leftovers: ProcessIdentity[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-output-'));
});

afterAll(async () => {
  for (const f of followers) f.close();
  for (const id of leftovers) await host.killGroup(id, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Follows `file`, collecting lines; `next(text)` resolves once a line containing text arrived. */
function follow(file: string, maxBytes: number, keep = 2) {
  const lines: string[] = [];
  const wakes = new Set<() => void>();
  const batches: WakeSource = (wake) => (wakes.add(wake), () => void wakes.delete(wake));
  const follower = host.followOutput(file, { maxBytes, keep }, (batch) => {
    lines.push(...batch);
    for (const wake of [...wakes]) wake();
  });
  followers.push(follower);
  const next = (text: string) =>
    until(`a line with ${JSON.stringify(text)}`, () => lines.some((l) => l.includes(text)), { sources: [batches], timeoutMs: 10_000, detail: () => `lines: ${JSON.stringify(lines)}` });
  return { lines, next, follower };
}

/** Waits for FILE.n to exist and FILE to be emptied: a rotation (renames and a truncation in FILE's directory). */
function rotated(file: string, n: number): Promise<void> {
  return until(`${file} rotated to .${n}`, () => existsSync(`${file}.${n}`) && statSync(file).size === 0, { sources: [changesOf(dirname(file))], timeoutMs: 5000 });
}

describe('followOutput', () => {
  it('passes on complete lines written after it started, joining a line written in parts', async () => {
    const file = join(tmp, 'lines.log');
    writeFileSync(file, 'written before\n');
    const { lines, next } = follow(file, 1 << 20);
    appendFileSync(file, 'first\nsec');
    await next('first');
    appendFileSync(file, 'ond\r\nthird\n');
    await next('third');
    expect(lines).toEqual(['first', 'second', 'third']);
  });

  it('creates the file when missing, readable by root and its group only', () => {
    const file = join(tmp, 'new.log');
    follow(file, 1 << 20);
    expect(statSync(file).mode & 0o777 & ~0o640).toBe(0);
  });

  it('rotates at the cap to FILE.1 … FILE.keep, the oldest dropped', async () => {
    const file = join(tmp, 'rotated.log');
    const { next } = follow(file, 1000, 2);
    const chunk = (tag: string) => `${tag} ${'x'.repeat(1100)}\n`;
    appendFileSync(file, chunk('one'));
    await next('one');
    await rotated(file, 1);
    expect(readFileSync(`${file}.1`, 'utf8')).toBe(chunk('one'));
    appendFileSync(file, chunk('two'));
    await next('two');
    await rotated(file, 2);
    appendFileSync(file, chunk('three'));
    await next('three');
    await until('FILE.1 to hold the third chunk', () => readFileSync(`${file}.1`, 'utf8') === chunk('three'), { sources: [changesOf(dirname(file))], timeoutMs: 5000 });
    expect(readFileSync(`${file}.2`, 'utf8')).toBe(chunk('two'));
    expect(existsSync(`${file}.3`)).toBe(false);
  });

  it('rotates a file that reached the cap while nobody followed it, at once', async () => {
    const file = join(tmp, 'adopted.log');
    writeFileSync(file, 'y'.repeat(5000) + '\n');
    follow(file, 1000, 1);
    await rotated(file, 1);
    expect(statSync(`${file}.1`).size).toBe(5001);
  });

  it('rotates while the loader runs: it goes on writing at the start of the emptied file', async () => {
    const file = join(tmp, 'loader.log');
    const fifo = join(tmp, 'go');
    execFileSync('mkfifo', [fifo]);
    const { next } = follow(file, 1000, 3);
    // 30 lines of 50 bytes, then wait to be told, then one more line.
    const script = `i=0; while [ $i -lt 30 ]; do printf 'line %02d %040d\\n' $i 0; i=$((i+1)); done; read go < ${fifo}; echo after rotation; exec sleep 300`;
    const id = await host.spawn({ argv: ['/bin/sh', '-c', script], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, logFile: file });
    leftovers.push(id);
    await next('line 29');
    await rotated(file, 1);
    expect(readFileSync(`${file}.1`, 'utf8').split('\n')).toHaveLength(31);
    await tell(fifo, 'go\n');
    await next('after rotation');
    // Appended at offset 0 of the truncated file, not at the old offset behind a hole of NULs.
    expect(readFileSync(file, 'utf8')).toBe('after rotation\n');
    expect((await host.process(id))?.state).not.toBe('Z');
    await host.killGroup(id, 'SIGKILL');
  });

  it('flush reads what was written without waiting for the change notification', () => {
    const file = join(tmp, 'flush.log');
    const { lines, follower } = follow(file, 1 << 20);
    appendFileSync(file, 'last words\n');
    follower.flush();
    expect(lines).toEqual(['last words']);
  });
});
