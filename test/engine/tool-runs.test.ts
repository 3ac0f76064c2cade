/**
 * The engine's containment of tools, against real processes: an operation bounded by its timeout
 * kills its tool and fails once the tool is gone, its run recorded meanwhile; a restarted daemon
 * settles the tools its predecessor left running (awaited until their deadline, then killed with
 * their process group) and leaves its own alone.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createLinuxHost } from '../../src/host/index.js';
import { parseProcStat } from '../../src/host/parse.js';
import { runToolChecked } from '../../src/host/run-tool.js';
import { memoryStateStore, type ToolRunRecord } from '../../src/engine/state-file.js';
import { ToolRuns } from '../../src/engine/tool-runs.js';
import { TOOL_RUN_ENV } from '../../src/host/host.js';
import type { LogLine } from '../../src/engine/manager-api.js';
import { until } from './harness.js';
import { eventsOf } from '../helpers/wait-for.js';
import { firstProblem } from '../helpers/rejections.js';

const host = createLinuxHost({ exitPollMs: 20 });
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A process leading its own session and group, as the host starts tools. */
function detached(argv: string[]): { pid: number; startTime: number; exited: Promise<void> } {
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
  const pid = child.pid!;
  started.push(pid);
  const startTime = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).startTime;
  return { pid, startTime, exited: new Promise((r) => child.on('exit', () => r())) };
}

function setup() {
  const store = memoryStateStore().toolRuns;
  const lines: Pick<LogLine, 'level' | 'unit' | 'message'>[] = [];
  const passes: string[] = [];
  const asked = new EventEmitter();
  const tools = new ToolRuns({
    host,
    store,
    log: (level, unit, message) => lines.push({ level, ...(unit ? { unit } : {}), message }),
    reconcile: (reason) => {
      passes.push(reason);
      asked.emit('pass');
    },
  });
  return { store, lines, passes, asked, tools };
}

describe('bounded', () => {
  test('an operation done in time gives its value; one that fails, its own error', async () => {
    const { tools } = setup();
    expect(await tools.bounded('a.driver', (call) => runToolChecked(['echo', 'hi'], { env: process.env, op: 'loadModule', signal: call.signal, runs: call.runs }), 5000, 'echo')).toMatchObject({ stdout: 'hi\n' });
    await expect(tools.bounded('a.driver', Promise.reject(new Error('no')), 5000, 'x')).rejects.toThrow('no');
  });

  test('a tool still running at the deadline is killed with its group; the timeout names it and comes once it is gone; its record lived as long as it ran', async () => {
    const { tools, store } = setup();
    let during: ToolRunRecord[] = [];
    let pid = 0;
    const t = Date.now();
    const p = tools.bounded(
      'nuttx.cell',
      (call) =>
        runToolChecked(['sleep', '30'], {
          env: process.env,
          op: 'createCell',
          signal: call.signal,
          runs: {
            started: (r) => {
              call.runs?.started(r);
              pid = r.pid;
              during = store.list();
            },
            ended: (r) => call.runs?.ended(r),
          },
        }),
      300,
      'jailhouse cell create /etc/jailhouse/nuttx.cell',
    );
    const problem = await firstProblem(p);
    expect(problem).toMatchObject({ code: 'ENGINE_TIMEOUT', unit: 'nuttx.cell', message: `jailhouse cell create /etc/jailhouse/nuttx.cell did not finish within 300 ms; killed it with its process group (pid ${pid})` });
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    expect(alive(pid)).toBe(false);
    expect(during).toEqual([{ op: 'createCell', pid, startTime: expect.any(Number), argv: ['sleep', '30'], unit: 'nuttx.cell', owner: expect.any(String), started: expect.any(Number), deadline: expect.any(Number) }]);
    expect(during[0]!.deadline - during[0]!.started).toBeLessThanOrEqual(300);
    expect(store.list()).toEqual([]);
  });

  test('an operation that runs no tool is given up at the deadline; ending late, it asks for a pass', async () => {
    const { tools, passes, asked } = setup();
    let finish!: () => void;
    const late = new Promise<void>((r) => (finish = r));
    expect(await firstProblem(tools.bounded('rtmux.hypervisor', late, 50, 'image placement'))).toMatchObject({ code: 'ENGINE_TIMEOUT', message: 'image placement did not finish within 50 ms' });
    finish();
    await until(() => passes.length > 0, 2000, 'a pass', [eventsOf(asked, 'pass')]);
    expect(passes).toEqual(['image placement of rtmux.hypervisor finished late']);
  });
});

describe('settlePrevious', () => {
  test('a run recorded only by its token (its daemon killed between the spawn and learning the PID) is found by the token and settled; a token no process carries is forgotten', async () => {
    const { tools, store, lines } = setup();
    const token = 'a1b2c3d4e5f60718';
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore', env: { ...process.env, [TOOL_RUN_ENV]: token } });
    started.push(child.pid!);
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const base = { op: 'spawning', argv: ['sleep', '30'], unit: 'jailhouse.driver', owner: 'previous', started: Date.now(), pid: 0, startTime: 0 };
    store.add({ ...base, token, deadline: Date.now() - 1 });
    store.add({ ...base, token: '0000000000000000', deadline: Date.now() - 1 });
    await tools.settlePrevious();
    await exited;
    expect(alive(child.pid!)).toBe(false);
    expect(store.list()).toEqual([]);
    expect(lines.map((l) => l.message)).toEqual([`killed \`sleep 30\` (pid ${child.pid}) with its process group: the previous crtosd left it running past its deadline`]);
  });

  test("a previous daemon's tools: one gone is forgotten, one within its deadline awaited, one past it killed with its group, a loader past its wrappers left alone; its own are not touched", async () => {
    const { tools, store, lines } = setup();
    const record = (p: { pid: number; startTime: number }, extra: Partial<ToolRunRecord>): ToolRunRecord => ({ op: 'createCell', argv: ['x'], owner: 'previous', started: Date.now(), deadline: Date.now() - 1, ...p, ...extra });

    const gone = detached(['true']);
    await gone.exited;
    store.add(record(gone, { argv: ['jailhouse', 'cell', 'start', '--name', 'nuttx'] }));
    const past = detached(['sh', '-c', 'sleep 30 & wait']);
    await until(() => readFileSync(`/proc/${past.pid}/task/${past.pid}/children`, 'utf8').trim() !== '', 2000, 'the forked sleep');
    const forked = Number(readFileSync(`/proc/${past.pid}/task/${past.pid}/children`, 'utf8').trim());
    store.add(record(past, { argv: ['jailhouse', 'cell', 'create', 'nuttx.cell'], unit: 'nuttx.cell' }));
    const within = detached(['sleep', '0.3']);
    store.add(record(within, { argv: ['ip', 'addr', 'add'], unit: 'crtos-link.network', deadline: Date.now() + 10_000 }));
    const loader = detached(['sleep', '30']);
    store.add(record(loader, { op: 'spawn', argv: ['/usr/bin/chrt', '-f', '80', 'sleep', '30'], wrappers: ['/usr/bin/chrt'], unit: 'hello.loader' }));
    const own = detached(['sleep', '30']);
    tools.observer('mine.cell', Date.now() - 1).started({ op: 'createCell', pid: own.pid, startTime: own.startTime, argv: ['sleep', '30'] });

    await tools.settlePrevious();
    expect(alive(past.pid)).toBe(false);
    expect(alive(forked)).toBe(false);
    expect(alive(loader.pid)).toBe(true);
    expect(alive(own.pid)).toBe(true);
    expect(store.list().map((r) => r.pid)).toEqual([own.pid]);
    // Settled side by side: the lines in any order.
    expect(lines.length).toBe(3);
    expect(lines).toEqual(expect.arrayContaining([
      { level: 'info', unit: 'crtos-link.network', message: expect.stringMatching(new RegExp(`^\`ip addr add\` \\(pid ${within.pid}\\), started by the previous crtosd, is still running; waiting for it until its deadline \\(\\d+ ms\\) before acting$`)) },
      { level: 'warn', unit: 'nuttx.cell', message: `killed \`jailhouse cell create nuttx.cell\` (pid ${past.pid}) with its process group: the previous crtosd left it running past its deadline` },
      { level: 'info', unit: 'crtos-link.network', message: `\`ip addr add\` (pid ${within.pid}), started by the previous crtosd, ended` },
    ]));
    // Once per daemon.
    await tools.settlePrevious();
    expect(lines.length).toBe(3);
  });
});
