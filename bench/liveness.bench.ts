/**
 * liveness: what liveness checks every second cost crtosd (the bundled daemon, as deployed) on the
 * 32-cell synthetic deployment once it is up, side by side in one run: no checks, a tcp check on
 * each cell (the goal: < 1 % of a core), a heartbeat file on each loader, and an exec check on each
 * loader (a process per check; reported, no goal). Each variant gets a fresh machine and daemon,
 * and the daemon's CPU is read from /proc over the same window. The tcp checks connect to a
 * listener of this process, which counts them; the heartbeat files are rewritten by this process;
 * the exec check counts itself in a file. Afterwards each daemon's history must hold no health
 * event: a check that failed would make the figures meaningless.
 * CRTOS_BENCH_LIVENESS_SECONDS sets the window (default 30), CRTOS_BENCH_LIVENESS_VARIANTS picks
 * variants (comma-separated).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSynthetic, cpuSeconds, disposeSynthetic, SERVICE_NODE_OPTIONS, startDaemon, stopDaemon, untilBroughtUp, type Synthetic } from './synthetic.js';

const CELLS = Number(process.env.CRTOS_BENCH_CELLS ?? 32);
const SECONDS = Number(process.env.CRTOS_BENCH_LIVENESS_SECONDS ?? 30);
const GOAL_PERCENT = 1;
const VARIANTS = ['none', 'tcp', 'heartbeat', 'exec'] as const;
type Variant = (typeof VARIANTS)[number];
const wanted = (process.env.CRTOS_BENCH_LIVENESS_VARIANTS?.split(',') ?? VARIANTS).filter((v): v is Variant => (VARIANTS as readonly string[]).includes(v));

// Every tcp check connects here; counted, and closed at once.
let accepted = 0;
const listener = createServer((s) => {
  accepted++;
  s.destroy();
});
await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
const tcpPort = (listener.address() as AddressInfo).port;

/** The variant's `liveness:` line added to each cell or each loader; returns how to count its checks. */
function addChecks(syn: Synthetic, variant: Variant): { checks: () => number; tick?: () => void } {
  const file = join(syn.unitsDir, 'synthetic.yaml');
  let text = readFileSync(file, 'utf8');
  const beats = join(syn.machine.dir, 'run/beat');
  const counter = join(syn.dir, 'exec-checks');
  if (variant === 'tcp') {
    text = text.replace(/^(kind: Cell\nname: c\d+\n)/gm, `$1liveness: { tcp: "127.0.0.1:${tcpPort}", period: 1s }\n`);
  } else if (variant === 'heartbeat') {
    mkdirSync(beats, { recursive: true });
    text = text.replace(/^(kind: Loader\nname: (l\d+)\n)/gm, (_m, head: string, name: string) => {
      writeFileSync(join(beats, name), '0');
      return `${head}liveness: { heartbeat: { file: /run/beat/${name} }, period: 1s }\n`;
    });
  } else if (variant === 'exec') {
    const check = join(syn.machine.dir, 'opt/bench/check');
    writeFileSync(check, `#!/bin/sh\nprintf . >> ${counter}\n`);
    chmodSync(check, 0o755);
    text = text.replace(/^(kind: Loader\nname: l\d+\n)/gm, '$1liveness: { exec: [/opt/bench/check], period: 1s }\n');
  }
  writeFileSync(file, text);
  const start = accepted;
  if (variant === 'tcp') return { checks: () => accepted - start };
  if (variant === 'exec') return { checks: () => (existsSync(counter) ? statSync(counter).size : 0) };
  if (variant === 'heartbeat') {
    let n = 0;
    // Each file changes twice a period, as a firmware's tick counter would.
    return { checks: () => NaN, tick: () => void (n++, [...Array(CELLS).keys()].forEach((i) => writeFileSync(join(beats, `l${i + 1}`), String(n)))) };
  }
  return { checks: () => 0 };
}

/** Units whose saved history has a health event (a check that failed). */
function unitsWithEvents(syn: Synthetic): string[] {
  try {
    const units = (JSON.parse(readFileSync(join(syn.stateDir, 'history.json'), 'utf8')) as { units: Record<string, { health?: unknown }> }).units;
    return Object.entries(units).flatMap(([id, h]) => (h.health ? [id] : []));
  } catch {
    return [];
  }
}

interface Row {
  variant: Variant;
  share: number;
  checksPerSecond: number;
  unhealthy: string[];
  bringUp: number;
}

const rows: Row[] = [];
for (const variant of wanted) {
  const syn = await createSynthetic(CELLS);
  const { checks, tick } = addChecks(syn, variant);
  const ticker = tick ? setInterval(tick, 500) : undefined;
  const daemon = startDaemon(syn, process.env.CRTOS_BENCH_NODE_OPTIONS ?? SERVICE_NODE_OPTIONS);
  const pid = daemon.pid!;
  const t0 = Date.now();
  await untilBroughtUp(syn);
  const bringUp = (Date.now() - t0) / 1000;
  // The last pass settles and every unit's checks are under way.
  await new Promise((r) => setTimeout(r, 3000));
  const before = cpuSeconds(pid);
  const checksBefore = checks();
  const start = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const used = cpuSeconds(pid) - before;
  const elapsed = (Date.now() - start) / 1000;
  const checksPerSecond = (checks() - checksBefore) / elapsed;
  await stopDaemon(daemon, syn);
  if (ticker) clearInterval(ticker);
  rows.push({ variant, share: (used / elapsed) * 100, checksPerSecond, unhealthy: unitsWithEvents(syn), bringUp });
  await disposeSynthetic(syn);
}
listener.close();

const base = rows.find((r) => r.variant === 'none');
const what: Record<Variant, string> = {
  none: 'no liveness checks',
  tcp: `tcp on each of ${CELLS} cells, every 1s`,
  heartbeat: `heartbeat file on each of ${CELLS} loaders, every 1s`,
  exec: `exec on each of ${CELLS} loaders, every 1s (a process per check; no goal)`,
};
console.log(`${CELLS} cells with drivers and loaders, daemon CPU over ${SECONDS} s once up (goal: tcp checks < ${GOAL_PERCENT} % of a core)`);
console.log('variant    checks/s  CPU share of a core  over no checks  ratio to the 1 % goal  health events  what');
for (const r of rows) {
  const over = base && r !== base ? `${r.share - base.share >= 0 ? '+' : ''}${(r.share - base.share).toFixed(3)} %` : '-';
  const checksText = Number.isNaN(r.checksPerSecond) ? 'n/a' : r.checksPerSecond.toFixed(1);
  const ratio = r.variant === 'exec' ? `(${(r.share / GOAL_PERCENT).toFixed(2)})` : (r.share / GOAL_PERCENT).toFixed(2);
  console.log(
    `${r.variant.padEnd(10)} ${checksText.padStart(8)}  ${`${r.share.toFixed(3)} %`.padStart(19)}  ${over.padStart(14)}  ${ratio.padStart(21)}  ${(r.unhealthy.length ? r.unhealthy.join(' ') : 'none').padStart(13)}  ${what[r.variant]} (bring-up ${r.bringUp.toFixed(1)} s)`,
  );
}
const tcp = rows.find((r) => r.variant === 'tcp');
if (tcp && base) console.log(`tcp checks alone (over no checks): ${(tcp.share - base.share).toFixed(3)} % of a core, ratio ${((tcp.share - base.share) / GOAL_PERCENT).toFixed(2)} to the 1 % goal`);
if (rows.some((r) => r.unhealthy.length > 0)) console.log('WARNING: some checks failed during the run (health events above); their figures include the actions taken');
