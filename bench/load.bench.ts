/**
 * Load, validate and order synthetic unit sets of 1,000 and 10,000 units, from files on disk (one
 * file per ten units, drop-ins for some), through loadUnits: discovery, reading, parsing, schemas,
 * references, cycles and layers. Prints the time per unit for both sizes and their ratio.
 * Goal: 10,000 units in under 1 s on a 2-core machine; per-unit cost flat (ratio within 1.5).
 */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUnits } from '../src/units/load.js';

const UNITS_PER_FILE = 10;

/** A deployment repeated: per group a driver, hypervisor (or a second driver), image, cell, network and loader. */
function unitText(i: number): string {
  const g = Math.floor(i / 6);
  switch (i % 6) {
    case 0:
      return `kind: Driver\nname: drv${g}\npath: /opt/d/drv${g}.ko\nparameters: { debug: 1 }\nprovides: /dev/drv${g}\n`;
    case 1:
      // A machine has one hypervisor (UNIT_CONFLICT otherwise): the first group's; later groups put
      // a second driver in its place, so every group is still six units.
      return g === 0
        ? `kind: Hypervisor\nname: hv0\ntype: jailhouse\ndriver: drv0\nsystem: /etc/jailhouse/sys0.cell\n`
        : `kind: Driver\nname: aux${g}\nmodule: aux${g}\nrequires: [hv0.hypervisor]\n`;
    case 2:
      return `kind: Image\nname: img${g}\npath: /opt/img${g}.bin\nsha256: ${'ab'.repeat(32)}\n`;
    case 3:
      return `kind: Cell\nname: cell${g}\nhypervisor: hv0\nconfig: /etc/jailhouse/c${g}.cell\nload:\n  - image: img${g}\n    address: 0x1000\nonFailure: restart\nready: { tcp: "127.0.0.1:${1000 + (g % 60000)}", timeout: 10s }\n`;
    case 4:
      return `kind: Network\nname: net${g}\ninterface: veth${g % 10000}\naddress: 10.0.${g % 250}.1/24\nrequires: [drv${g}.driver]\n`;
    default:
      return `kind: Loader\nname: app${g}\nexec: [/opt/loader, /opt/apps/app${g}]\nenvironment: { SHADOWPROC: /dev/drv${g} }\nscheduling: { policy: fifo, priority: 80 }\nrequires: [cell${g}.cell, net${g}.network]\nrestart: on-failure\n`;
  }
}

function writeSet(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f * UNITS_PER_FILE < count; f++) {
    const docs: string[] = [];
    for (let i = f * UNITS_PER_FILE; i < Math.min(count, (f + 1) * UNITS_PER_FILE); i++) docs.push(unitText(i));
    writeFileSync(join(dir, `set-${String(f).padStart(5, '0')}.yaml`), docs.join('---\n'));
  }
  // a drop-in for about every 100th unit (every 17th cell)
  for (let g = 0; g * 6 + 3 < count; g += 17) {
    mkdirSync(join(dir, `cell${g}.cell.d`), { recursive: true });
    writeFileSync(join(dir, `cell${g}.cell.d`, '10-local.yaml'), 'ready:\n  timeout: 20s\n');
  }
}

async function measure(dir: string, count: number): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const start = performance.now();
    const result = await loadUnits({ directories: [dir] });
    const ms = performance.now() - start;
    if (!result.set || result.set.units.size !== count) {
      throw new Error(`expected ${count} valid units, got ${result.set?.units.size}: ${result.problems.slice(0, 3).map((p) => p.message).join('; ')}`);
    }
    runs.push(ms);
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)]!; // median
}

const tmp = mkdtempSync(join(tmpdir(), 'crtos-bench-load-'));
try {
  const sizes = [1_000, 10_000];
  for (const n of sizes) writeSet(join(tmp, String(n)), n);
  await measure(join(tmp, '1000'), 1_000); // warm-up: JIT
  const perUnit: number[] = [];
  for (const n of sizes) {
    const ms = await measure(join(tmp, String(n)), n);
    perUnit.push((ms * 1000) / n);
    console.log(`${String(n).padStart(6)} units: ${ms.toFixed(1)} ms total, ${((ms * 1000) / n).toFixed(1)} µs per unit (median of 5)`);
  }
  const ratio = perUnit[1]! / perUnit[0]!;
  const total10k = (perUnit[1]! * 10_000) / 1000;
  console.log(`per-unit ratio 10,000 / 1,000: ${ratio.toFixed(2)} (goal ≤ 1.5) ${ratio <= 1.5 ? 'ok' : 'MISSED'}`);
  console.log(`10,000 units: ${total10k.toFixed(0)} ms (goal < 1000 ms) ${total10k < 1000 ? 'ok' : 'MISSED'}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
