import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { changesOf, dataOf, eventsOf, settled, until, waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('re-checks when a file not there yet is created, then when it changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crtos-wait-'));
    try {
      const file = join(dir, 'later');
      const read = () => (existsSync(file) ? readFileSync(file, 'utf8') : '');
      const created = until('the file to exist', () => existsSync(file), { sources: [changesOf(file)], timeoutMs: 5000 });
      writeFileSync(file, 'one');
      await created;
      const changed = waitFor('the second line', () => (read().includes('two') ? read() : undefined), { sources: [changesOf(file)], timeoutMs: 5000 });
      writeFileSync(file, 'one\ntwo');
      expect(await changed).toBe('one\ntwo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("wakes on a stream's data and an emitter's events, and resolves with the check's value", async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    const line = waitFor('a complete line', () => (text.includes('\n') ? text.split('\n')[0] : undefined), { sources: [dataOf(stream)], timeoutMs: 5000 });
    stream.write('hel');
    stream.write('lo\nrest');
    expect(await line).toBe('hello');
    const emitter = new EventEmitter();
    let n = 0;
    const third = until('three ticks', () => n >= 3, { sources: [eventsOf(emitter, 'tick')], timeoutMs: 5000 });
    for (let i = 0; i < 3; i++) {
      n++;
      emitter.emit('tick');
    }
    await third;
    expect(emitter.listenerCount('tick')).toBe(0);
  });

  it('times out naming what it waited for and the detail at that moment', async () => {
    let state = 'before';
    const wait = until('a thing that never happens', () => false, { sources: [], timeoutMs: 50, detail: () => `state: ${state}` });
    state = 'after';
    await expect(wait).rejects.toThrow('timed out after 50 ms waiting for a thing that never happens\nstate: after');
  });

  it('rejects with what the check throws, and never runs an asynchronous check twice at once', async () => {
    await expect(until('x', () => { throw new Error('the process died'); }, { sources: [], timeoutMs: 1000 })).rejects.toThrow('the process died');
    const emitter = new EventEmitter();
    let running = 0;
    let most = 0;
    let runs = 0;
    const wait = until('the fourth run', async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return ++runs >= 4;
    }, { sources: [eventsOf(emitter, 'x')], timeoutMs: 5000 });
    const kick = setInterval(() => emitter.emit('x'), 1);
    await wait.finally(() => clearInterval(kick));
    expect(most).toBe(1);
  });

  it('settled gives a promise a deadline', async () => {
    expect(await settled('a value', Promise.resolve(7), { timeoutMs: 1000 })).toBe(7);
    await expect(settled('a failure', Promise.reject(new Error('no')), { timeoutMs: 1000 })).rejects.toThrow('no');
    await expect(settled('forever', new Promise(() => undefined), { timeoutMs: 30 })).rejects.toThrow('timed out after 30 ms waiting for forever');
  });
});
