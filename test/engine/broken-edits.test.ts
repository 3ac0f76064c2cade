/**
 * Issue 9 acceptance: a broken edit, applied while the whole cRTOS example runs, is refused whole.
 * For each kind of edit: the reload fails with the error at its position, the simulated machine
 * logs no mutating operation, and once the edit is reverted the set converges with nothing to do.
 * The short form (units/crtos: links, generated configurations) and the hand-written one
 * (units/crtos-handwritten: .cell files, or units/crtos-inline's regions) each get their own edits.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_ACTIVE, ALL_ACTIVE_HANDWRITTEN, HANDWRITTEN_UNITS, makeFixture, settle, states, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import type { Problem } from '../../src/errors/problem.js';
import type { ProblemCode } from '../../src/errors/codes.js';

const INLINE = readFileSync(join(import.meta.dirname, '../../units/crtos-inline/nuttx.yaml'), 'utf8');

interface BrokenEdit {
  name: string;
  /** The code of the error the reload must report. */
  code: ProblemCode;
  /** Makes the edit; `f.unitsDir` and the machine are restored from a snapshot afterwards. */
  edit(f: Fixture): void;
  /** A problem of the whole file (it has no line: not text, too large, unreadable). */
  fileLevel?: boolean;
}

const replaceIn = (f: Fixture, file: string, from: string | RegExp, to: string) => {
  const before = f.readUnit(file);
  const after = before.replace(from, to);
  if (after === before) throw new Error(`the edit of ${file} changed nothing: ${String(from)}`);
  f.writeUnit(file, after);
};
const machineFile = (f: Fixture, path: string) => join(f.machine.dir, path);
const inline = (f: Fixture, from: string | RegExp, to: string) => {
  const endpoint = f.machine.readinessEndpoint('nuttx')!;
  const text = INLINE.replace(/172\.16\.0\.2:42/g, `${endpoint.host}:${endpoint.port}`);
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`the inline edit changed nothing: ${String(from)}`);
  f.writeUnit('nuttx.yaml', edited);
};

const EDITS: BrokenEdit[] = [
  // YAML
  { name: 'an unclosed flow sequence', code: 'UNIT_YAML_SYNTAX', edit: (f) => replaceIn(f, 'hello.yaml', 'requires: [nuttx.cell,', 'requires: [[nuttx.cell,') },
  { name: 'a key given twice', code: 'UNIT_DUPLICATE_KEY', edit: (f) => replaceIn(f, 'hello.yaml', 'restart: on-failure', 'restart: on-failure\nrestart: always') },
  { name: 'a document that is a list', code: 'UNIT_NOT_A_MAPPING', edit: (f) => f.writeUnit('extra.yaml', '- kind: Driver\n- name: x\n') },
  { name: '20,000 nested brackets', code: 'UNIT_YAML_LIMIT', edit: (f) => f.writeUnit('deep.yaml', `kind: Driver\nname: deep\nmodule: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`) },
  // Schema
  { name: 'a misspelt field', code: 'UNIT_UNKNOWN_FIELD', edit: (f) => replaceIn(f, 'hello.yaml', 'exec:', 'exce:') },
  { name: 'a wrong type', code: 'UNIT_INVALID_TYPE', edit: (f) => replaceIn(f, 'hello.yaml', 'priority: 80', 'priority: high') },
  { name: 'a value out of range', code: 'UNIT_INVALID_VALUE', edit: (f) => replaceIn(f, 'hello.yaml', 'priority: 80', 'priority: 100') },
  { name: 'an unknown kind', code: 'UNIT_UNKNOWN_KIND', edit: (f) => replaceIn(f, 'network.yaml', 'kind: Network', 'kind: Netwrok') },
  { name: 'no kind', code: 'UNIT_MISSING_KIND', edit: (f) => replaceIn(f, 'network.yaml', 'kind: Network\n', '') },
  { name: 'a required field removed', code: 'UNIT_MISSING_FIELD', edit: (f) => replaceIn(f, 'network.yaml', /^interface: .*\n/m, '') },
  { name: 'a sha256 that is not hex', code: 'UNIT_INVALID_VALUE', edit: (f) => replaceIn(f, 'nuttx.yaml', /sha256: [0-9a-f]{64}/, 'sha256: not-a-digest') },
  { name: 'an address that cannot be', code: 'UNIT_INVALID_VALUE', edit: (f) => replaceIn(f, 'network.yaml', 'address: 172.16.0.1/24', 'address: 999.1.1.1/99') },
  { name: 'a duration without a unit it knows', code: 'UNIT_INVALID_VALUE', edit: (f) => replaceIn(f, 'nuttx.yaml', 'timeout: 10s', 'timeout: 10 parsecs') },
  // The set
  { name: 'a dependency cycle', code: 'UNIT_DEPENDENCY_CYCLE', edit: (f) => replaceIn(f, 'nuttx.yaml', 'wants: [crtos-link.network]', 'wants: [crtos-link.network]\nrequires: [hello.loader]') },
  { name: 'a dangling reference', code: 'UNIT_UNKNOWN_REFERENCE', edit: (f) => replaceIn(f, 'hello.yaml', 'requires: [nuttx.cell,', 'requires: [nutx.cell,') },
  { name: 'a duplicate unit id', code: 'UNIT_DUPLICATE_ID', edit: (f) => f.writeUnit('copy.yaml', f.readUnit('hello.yaml')) },
  { name: 'a second hypervisor', code: 'UNIT_CONFLICT', edit: (f) => f.writeUnit('second.yaml', 'kind: Hypervisor\nname: other\ntype: jailhouse\nsystem: /etc/jailhouse/sysconfig.cell\n') },
  { name: 'a drop-in for another unit', code: 'UNIT_DROPIN_MISMATCH', edit: (f) => writeDropIn(f, 'hello.loader', 'kind: Loader\nname: other\n') },
  { name: 'a drop-in with a bad value', code: 'UNIT_INVALID_VALUE', edit: (f) => writeDropIn(f, 'hello.loader', 'restart: sometimes\n') },
  // Files as they are
  { name: 'an empty unit file', code: 'UNIT_EMPTY_FILE', edit: (f) => f.writeUnit('network.yaml', '') },
  { name: 'a binary unit file', code: 'UNIT_NOT_TEXT', fileLevel: true, edit: (f) => writeFileSync(join(f.unitsDir, 'network.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff, 0xfe])) },
  { name: 'a 50 MB unit file', code: 'UNIT_FILE_TOO_LARGE', fileLevel: true, edit: (f) => truncateSync(join(f.unitsDir, 'network.yaml'), 50 * 1024 * 1024) },
  { name: 'a symlink loop', code: 'UNIT_READ_FAILED', fileLevel: true, edit: (f) => symlinkLoop(f, 'loop.yaml') },
  // What the machine shows
  { name: 'a wrong sha256', code: 'UNIT_IMAGE_MISMATCH', edit: (f) => replaceIn(f, 'nuttx.yaml', /sha256: [0-9a-f]{64}/, `sha256: ${'ab'.repeat(32)}`) },
  { name: 'one byte of the image flipped', code: 'UNIT_IMAGE_MISMATCH', edit: (f) => flipByte(machineFile(f, 'opt/crtos/nuttx.bin')) },
  { name: 'the image removed', code: 'UNIT_FILE_MISSING', edit: (f) => rmSync(machineFile(f, 'opt/crtos/nuttx.bin')) },
  { name: 'an image path that is not there', code: 'UNIT_FILE_MISSING', edit: (f) => replaceIn(f, 'nuttx.yaml', 'path: /opt/crtos/nuttx.bin', 'path: /opt/crtos/nutx.bin') },
  { name: 'system: pointed at a missing file', code: 'UNIT_FILE_MISSING', edit: (f) => replaceIn(f, 'jailhouse.yaml', 'system: /etc/jailhouse/sysconfig-base.cell', 'system: /etc/jailhouse/sysconf.cell') },
  { name: 'the base system configuration garbage', code: 'UNIT_FILE_INVALID', edit: (f) => writeFileSync(machineFile(f, 'etc/jailhouse/sysconfig-base.cell'), Buffer.alloc(64, 0xa5)) },
  { name: "a driver's module removed", code: 'UNIT_FILE_MISSING', edit: (f) => rmSync(machineFile(f, 'opt/crtos/drivers/shadow.ko')) },
  { name: "the loader's program removed", code: 'UNIT_FILE_MISSING', edit: (f) => rmSync(machineFile(f, 'opt/crtos/loader')) },
  { name: 'a device no driver provides', code: 'UNIT_FILE_MISSING', edit: (f) => replaceIn(f, 'hello.yaml', 'SHADOWPROC: /dev/shadow-process0', 'SHADOWPROC: /dev/shadow-process9') },
  // The cell's own part of its configuration (the links are added to it), as the hypervisor would judge it
  { name: 'own part: CPU 0 given away', code: 'CELLCFG_CPU0_GIVEN_AWAY', edit: (f) => replaceIn(f, 'nuttx.yaml', '  cpus: 3\n', '  cpus: 0-1\n') },
  { name: 'own part: a CPU the root cell does not have', code: 'CELLCFG_CPU_NOT_IN_ROOT', edit: (f) => replaceIn(f, 'nuttx.yaml', '  cpus: 3\n', '  cpus: 9\n') },
  { name: "own part: a region over the shadow link's state table", code: 'CELLCFG_OVERLAP_IN_CELL', edit: (f) => replaceIn(f, 'nuttx.yaml', '    - { virtStart: 0x80000000', '    - { physStart: 0x100000800, size: 1K, flags: [READ] }\n    - { virtStart: 0x80000000') },
  { name: 'own part: another revision than the system', code: 'UNIT_CELL_CONFIG', edit: (f) => replaceIn(f, 'nuttx.yaml', '  name: nuttx\n  flags:', '  name: nuttx\n  revision: 14\n  flags:') },
];

/**
 * Edits of the hand-written example (units/crtos-handwritten): its .cell files named by path, and
 * the cell configured inline region by region (units/crtos-inline over it).
 */
const HANDWRITTEN_EDITS: BrokenEdit[] = [
  { name: '.cell replaced by garbage', code: 'UNIT_FILE_INVALID', edit: (f) => writeFileSync(machineFile(f, 'etc/jailhouse/nuttx.cell'), 'this is not a cell configuration\n') },
  { name: '.cell truncated', code: 'UNIT_FILE_INVALID', edit: (f) => truncateSync(machineFile(f, 'etc/jailhouse/nuttx.cell'), 40) },
  { name: 'a .cell path that is not there', code: 'UNIT_FILE_MISSING', edit: (f) => replaceIn(f, 'nuttx.yaml', 'config: /etc/jailhouse/nuttx.cell', 'config: /etc/jailhouse/nutx.cell') },
  { name: 'the system configuration as the cell one', code: 'UNIT_FILE_INVALID', edit: (f) => replaceIn(f, 'nuttx.yaml', 'config: /etc/jailhouse/nuttx.cell', 'config: /etc/jailhouse/sysconfig.cell') },
  { name: 'system: pointed at a missing file', code: 'UNIT_FILE_MISSING', edit: (f) => replaceIn(f, 'jailhouse.yaml', 'system: /etc/jailhouse/sysconfig.cell', 'system: /etc/jailhouse/sysconf.cell') },
  { name: 'the system configuration garbage', code: 'UNIT_FILE_INVALID', edit: (f) => writeFileSync(machineFile(f, 'etc/jailhouse/sysconfig.cell'), Buffer.alloc(64, 0xa5)) },
  // Cell configurations written inline, as the hypervisor would judge them
  { name: 'inline: CPU 0 given away', code: 'CELLCFG_CPU0_GIVEN_AWAY', edit: (f) => inline(f, '  cpus: 3\n', '  cpus: 0-1\n') },
  { name: 'inline: a CPU the root cell does not have', code: 'CELLCFG_CPU_NOT_IN_ROOT', edit: (f) => inline(f, '  cpus: 3\n', '  cpus: 9\n') },
  { name: 'inline: regions that overlap', code: 'CELLCFG_OVERLAP_IN_CELL', edit: (f) => inline(f, '    - { virtStart: 0x80000000', '    - { physStart: 0x100000800, size: 1K, flags: [READ] }\n    - { virtStart: 0x80000000') },
  { name: 'inline: an ivshmem section at another address than its peer', code: 'CELLCFG_IVSHMEM_ADDRESS', edit: (f) => inline(f, '{ physStart: 0x140001000, size: 4K', '{ physStart: 0x140003000, size: 4K') },
  { name: 'inline: an ivshmem peer id the root cell has', code: 'CELLCFG_IVSHMEM_DEV_ID', edit: (f) => inline(f, 'shmemDevId: 1, shmemPeers: 2, shmemProtocol: 0x2', 'shmemDevId: 0, shmemPeers: 2, shmemProtocol: 0x2') },
  { name: 'inline: another revision than the system', code: 'UNIT_CELL_CONFIG', edit: (f) => inline(f, '  name: nuttx\n', '  name: nuttx\n  revision: 14\n') },
];

/**
 * Edits the hypervisor accepts, which the checks report as warnings: applied (with the warning,
 * at its position), and reverted the same way.
 */
const HANDWRITTEN_WARNINGS: BrokenEdit[] = [
  // ivshmem_init compares nothing between peers.
  { name: 'inline: an ivshmem peer count that disagrees', code: 'CELLCFG_IVSHMEM_PEERS', edit: (f) => inline(f, 'shmemDevId: 1, shmemPeers: 2, shmemProtocol: 0x2', 'shmemDevId: 1, shmemPeers: 3, shmemProtocol: 0x2') },
];

function writeDropIn(f: Fixture, unit: string, text: string): void {
  mkdirSync(join(f.unitsDir, `${unit}.d`), { recursive: true });
  writeFileSync(join(f.unitsDir, `${unit}.d`, 'override.yaml'), text);
}

function symlinkLoop(f: Fixture, file: string): void {
  symlinkSync(file, join(f.unitsDir, file));
}

function flipByte(path: string): void {
  const bytes = readFileSync(path);
  const i = bytes.length >> 1;
  bytes[i] = bytes[i]! ^ 0x01;
  writeFileSync(path, bytes);
}

/** Every file below `dir`, with its bytes (symlinks and directories are recreated by the restore). */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(p, readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Puts `dir` back as `snap` had it: extra entries removed, changed or missing files rewritten. */
function restore(dir: string, snap: Map<string, Buffer>): void {
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && ![...snap.keys()].some((k) => k.startsWith(`${p}/`))) rmSync(p, { recursive: true });
      else if (e.isDirectory()) walk(p);
      else if (!snap.has(p)) rmSync(p);
    }
  };
  walk(dir);
  for (const [p, bytes] of snap) {
    let same = false;
    try {
      same = statSync(p).size === bytes.length && readFileSync(p).equals(bytes);
    } catch {
      same = false;
    }
    if (!same) writeFileSync(p, bytes);
  }
}

/** Brings the example in `units` up, then makes each edit while everything runs. */
function brokenEditsWhileRunning(title: string, units: string | undefined, allActive: Record<string, string>, edits: readonly BrokenEdit[], warnings: readonly BrokenEdit[] = []): void {
  describe(title, () => {
    let f: Fixture;
    let m: Manager;
    let unitFiles: Map<string, Buffer>;
    let machineFiles: Map<string, Buffer>;
    const machineDirs = ['opt', 'etc'];

    beforeAll(async () => {
      f = await makeFixture(units ? { units } : {});
      m = f.manager();
      expect((await m.start()).ok).toBe(true);
      await settle(m);
      expect(states(m)).toEqual(allActive);
      unitFiles = snapshot(f.unitsDir);
      machineFiles = new Map(machineDirs.flatMap((d) => [...snapshot(machineFile(f, d))]));
    });
    afterAll(async () => f.cleanup());

    const revert = () => {
      restore(f.unitsDir, unitFiles);
      for (const d of machineDirs) restore(machineFile(f, d), new Map([...machineFiles].filter(([p]) => p.startsWith(`${machineFile(f, d)}/`))));
    };
    // A failed case must not leave its edit for the next one.
    afterEach(async () => {
      revert();
      await m.reload();
    });

    test.each(edits.map((e) => [e.name, e] as const))('%s: refused with its position, nothing touched, converges once reverted', async (_name, e) => {
      await f.machine.clearLog();
      e.edit(f);
      const refused = await m.reload();
      expect(refused.ok, JSON.stringify(refused.steps)).toBe(false);
      const found = refused.problems.find((p: Problem) => p.code === e.code);
      expect(found, JSON.stringify(refused.problems, null, 1)).toBeDefined();
      expect(found!.file).toBeDefined();
      if (!e.fileLevel) expect([found!.line, found!.column]).toEqual([expect.any(Number), expect.any(Number)]);
      expect(m.daemon().lastLoadErrors.map((p) => p.code)).toContain(e.code);
      await m.trigger('a pass with the edit in place');
      expect(await f.ops()).toEqual([]);

      revert();
      const reverted = await m.reload();
      expect(reverted.problems.filter((p) => (p.severity ?? 'error') === 'error')).toEqual([]);
      expect(reverted).toMatchObject({ ok: true, steps: [] });
      await m.idle();
      expect(states(m)).toEqual(allActive);
      expect(await f.ops()).toEqual([]);
    });

    if (warnings.length === 0) return;
    test.each(warnings.map((e) => [e.name, e] as const))('%s: applied with a warning at its position, and reverted', async (_name, e) => {
      e.edit(f);
      const applied = await m.reload();
      expect(applied.ok, JSON.stringify(applied.problems, null, 1)).toBe(true);
      expect(applied.problems.filter((p) => (p.severity ?? 'error') === 'error')).toEqual([]);
      const found = applied.problems.find((p: Problem) => p.code === e.code);
      expect(found, JSON.stringify(applied.problems, null, 1)).toMatchObject({ severity: 'warning', file: expect.any(String) });
      expect(applied.steps).toContainEqual(expect.objectContaining({ unit: 'nuttx.cell', action: 'recreate' }));
      await settle(m);
      expect(states(m)).toEqual(allActive);

      revert();
      const reverted = await m.reload();
      expect(reverted).toMatchObject({ ok: true, problems: [] });
      expect(reverted.steps).toContainEqual(expect.objectContaining({ unit: 'nuttx.cell', action: 'recreate' }));
      await settle(m);
      expect(states(m)).toEqual(allActive);
    });
  });
}

test('there are at least 30 kinds of them', () => {
  expect(new Set([...EDITS, ...HANDWRITTEN_EDITS].map((e) => e.name)).size).toBeGreaterThanOrEqual(30);
});

brokenEditsWhileRunning('broken edits while everything runs', undefined, ALL_ACTIVE, EDITS);
brokenEditsWhileRunning('broken edits while the hand-written example runs', HANDWRITTEN_UNITS, ALL_ACTIVE_HANDWRITTEN, HANDWRITTEN_EDITS, HANDWRITTEN_WARNINGS);
