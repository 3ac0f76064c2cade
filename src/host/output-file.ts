/**
 * A loader's output: stdout and stderr go to one file per unit that crtosd follows (each new line
 * to the unit's log, so `crtosctl status` shows it) and rotates by size while the loader runs.
 *
 * Why a file the loader writes itself, and not a pipe crtosd reads: a loader must outlive crtosd
 * (a restart, a crash, an upgrade). A pipe whose reader died gives the loader SIGPIPE or EPIPE on
 * its next write (the cRTOS loader would die of it, or lose its output), and a new crtosd cannot
 * reopen the old pipe. A file needs no reader: while no crtosd runs the loader goes on writing,
 * and the next crtosd follows and rotates the same file again.
 *
 * Why copy-truncate rotation: the loader holds the file open, so a renamed file would keep
 * receiving its output. The file is therefore copied to FILE.1 (older copies shifted up to
 * FILE.keep) and truncated in place; the loader's descriptor was opened with O_APPEND, so its
 * next write lands at the start of the emptied file, not at the old offset. The cost, as with
 * logrotate's copytruncate: what the loader writes between the copy and the truncation (a few
 * microseconds) is lost.
 */
import { closeSync, copyFileSync, openSync, readSync, renameSync, statSync, truncateSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import type { OutputFollower, OutputOptions } from './host.js';

/** Read at most this much per look: a loader that wrote more meanwhile has its older lines skipped (they stay in the file). */
const MAX_READ = 64 * 1024;
/** A line longer than this is passed on in pieces. */
const MAX_LINE = 8 * 1024;
/** Writes within this long are read in one look, so a chatty loader costs crtosd a bounded number of reads. */
const COALESCE_MS = 20;

export function followOutput(file: string, opts: OutputOptions, onLines: (lines: string[]) => void): OutputFollower {
  closeSync(openSync(file, 'a', 0o640));
  let offset = sizeOf(file) ?? 0;
  let partial: Buffer = Buffer.alloc(0);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const pass = (bytes: Buffer, skipped: number): void => {
    const lines: string[] = [];
    if (skipped > 0) {
      // The start of the read is in the middle of a line: drop up to the first newline.
      const nl = bytes.indexOf(10);
      bytes = nl < 0 ? Buffer.alloc(0) : bytes.subarray(nl + 1);
      partial = Buffer.alloc(0);
      lines.push(`[${skipped} bytes of output not shown; they are in ${file}]`);
    }
    let data = partial.length > 0 ? Buffer.concat([partial, bytes]) : bytes;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
      lines.push(lineText(data.subarray(0, nl)));
      data = data.subarray(nl + 1);
    }
    while (data.length > MAX_LINE) {
      lines.push(lineText(data.subarray(0, MAX_LINE)));
      data = data.subarray(MAX_LINE);
    }
    partial = Buffer.from(data);
    if (lines.length > 0) onLines(lines);
  };

  const readFrom = (path: string, from: number, to: number): void => {
    const start = Math.max(from, to - MAX_READ);
    pass(readRange(path, start, to), start - from);
  };

  const rotate = (): void => {
    if (opts.keep > 0) {
      for (let k = opts.keep - 1; k >= 1; k--) {
        try {
          renameSync(`${file}.${k}`, `${file}.${k + 1}`);
        } catch {
          // Not there yet.
        }
      }
      copyFileSync(file, `${file}.1`);
      // What the loader wrote between the last read and the copy is in the copy: pass it on too.
      const copied = sizeOf(`${file}.1`) ?? offset;
      if (copied > offset) readFrom(`${file}.1`, offset, copied);
    }
    truncateSync(file, 0);
    offset = 0;
  };

  const look = (): void => {
    timer = undefined;
    if (closed) return;
    const size = sizeOf(file);
    if (size === undefined) return; // removed: nothing to follow until it is there again
    try {
      if (size < offset) {
        // Truncated by someone else: start over at its beginning.
        offset = 0;
        partial = Buffer.alloc(0);
      }
      if (size > offset) readFrom(file, offset, size);
      offset = size;
      if (size >= opts.maxBytes) rotate();
    } catch {
      // Gone or unreadable meanwhile: the next change looks again.
    }
  };

  const changed = (): void => {
    if (!closed && timer === undefined) timer = setTimeout(look, COALESCE_MS).unref();
  };

  let watcher: FSWatcher | undefined;
  let polling = false;
  const poll = (): void => {
    if (polling) return;
    polling = true;
    watcher?.close();
    watcher = undefined;
    // Without inotify (no watches left, or a file system without it): a stat every second.
    watchFile(file, { interval: 1000, persistent: false }, changed);
  };
  try {
    watcher = watch(file, { persistent: false }, changed);
    watcher.on('error', poll);
  } catch {
    poll();
  }
  // A file that reached the cap while no crtosd followed it is rotated now.
  changed();

  return {
    flush() {
      if (timer) clearTimeout(timer);
      look();
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher?.close();
      if (polling) unwatchFile(file, changed);
    },
  };
}

function lineText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function readRange(path: string, from: number, to: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
