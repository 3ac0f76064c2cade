/**
 * Loaders' output in the unit log: each loader's stdout and stderr file (ID.log in crtosd's log
 * directory, see src/host/output-file.ts for why a file) is followed while crtosd runs, every new
 * line goes to the unit's log as `PROGRAM[PID]: line` (so `crtosctl status UNIT` shows the last
 * ones beside crtosd's own lines, as systemctl status shows a service's journal, and crtosd's log
 * carries them), and the file is rotated at OUTPUT_ROTATION.maxBytes.
 *
 * A follower is kept per unit, across the loader's restarts (the file is the unit's), from before
 * the first spawn (so the first line is not missed) until crtosd closes. Lines are rate-limited
 * per unit, as journald does, so a loader printing in a loop cannot flood crtosd's log; the file
 * keeps everything.
 *
 * Each line shown is also passed on whole (`forward`: the Manager's loaderOutput event, which
 * crtosd's journal sink sends under the loader's own name and PID). The rate limit applies there
 * too: journald limits messages per service, and a loader's lines come from crtosd's service, so
 * a flood of them would make journald drop crtosd's own records.
 */
import type { Host, OutputFollower, OutputOptions } from '../host/host.js';
import type { LogLine } from './manager-api.js';

/** ID.log is rotated at 1 MiB to ID.log.1 … ID.log.3: at most 4 MiB per loader under /run. */
export const OUTPUT_ROTATION: OutputOptions = { maxBytes: 1024 * 1024, keep: 3 };

/** At most this many lines of one loader's output in the log per window; the rest are counted. */
const RATE_BURST = 1000;
const RATE_WINDOW_MS = 10_000;

/** A line a loader wrote, as it is passed on to the journal. */
export interface LoaderLine {
  unit: string;
  /** The program's name (the label's PROGRAM). */
  program: string;
  /** The process writing the unit's output when it was read; 0 when not known. */
  pid: number;
  text: string;
}

interface Followed {
  file: string;
  /** The program's name and its current PID, for the line label. */
  program: string;
  pid: number;
  follower: OutputFollower;
  windowStart: number;
  shown: number;
  hidden: number;
}

export class LoaderOutputs {
  private readonly followed = new Map<string, Followed>();
  private closed = false;

  constructor(
    private readonly host: Host,
    private readonly log: (level: LogLine['level'], unit: string, message: string) => void,
    private readonly rotation: OutputOptions = OUTPUT_ROTATION,
    private readonly forward?: (line: LoaderLine) => void,
  ) {}

  /** Follows `file` for unit `id` (a no-op when it already does); `program` labels the lines. */
  follow(id: string, file: string, program: string): void {
    if (this.closed) return;
    const known = this.followed.get(id);
    if (known && known.file === file) {
      known.program = program;
      return;
    }
    known?.follower.close();
    this.followed.delete(id);
    const entry: Followed = { file, program, pid: 0, follower: { flush: () => undefined, close: () => undefined }, windowStart: 0, shown: 0, hidden: 0 };
    try {
      entry.follower = this.host.followOutput(file, this.rotation, (lines) => this.lines(id, entry, lines));
    } catch (e) {
      this.log('warn', id, `its output in ${file} is not shown here: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.followed.set(id, entry);
  }

  /** Passes on at once what the unit's loader wrote so far (before its exit is logged). */
  flush(id: string): void {
    this.followed.get(id)?.follower.flush();
  }

  /** The process now writing the unit's output, for the label. */
  setPid(id: string, pid: number): void {
    const entry = this.followed.get(id);
    if (entry) entry.pid = pid;
  }

  close(): void {
    this.closed = true;
    for (const entry of this.followed.values()) entry.follower.close();
    this.followed.clear();
  }

  private lines(id: string, entry: Followed, lines: string[]): void {
    if (this.closed) return;
    const now = Date.now();
    if (now - entry.windowStart >= RATE_WINDOW_MS) {
      if (entry.hidden > 0) {
        this.log('warn', id, `${entry.hidden} line(s) of its output were not shown here (more than ${RATE_BURST} in ${RATE_WINDOW_MS / 1000} s); they are in ${entry.file}`);
      }
      entry.windowStart = now;
      entry.shown = 0;
      entry.hidden = 0;
    }
    const label = entry.pid > 0 ? `${entry.program}[${entry.pid}]` : entry.program;
    for (const line of lines) {
      if (entry.shown >= RATE_BURST) {
        entry.hidden++;
        continue;
      }
      entry.shown++;
      this.log('info', id, `${label}: ${line}`);
      this.forward?.({ unit: id, program: entry.program, pid: entry.pid, text: line });
    }
  }
}
