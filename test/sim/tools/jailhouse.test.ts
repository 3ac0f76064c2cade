/**
 * Every case of upstream Jailhouse's CLI, sysfs, errno by operation and cell lifecycle against the stand-in `jailhouse`, run through its wrapper script as crtosd runs it:
 * exit code, message, and the sysfs state that results.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeConfig, type PciDevice } from '../../../src/jailhouse/index.js';
import { crtosSystemConfig, nuttxCellConfig, type BringUpStage, type MachineDescription, type SimMachine } from '../../../src/sim/index.js';
import { dataOf, until } from '../../helpers/wait-for.js';
import { machineFile, tempMachine } from '../helpers.js';

const USAGE_HEAD = 'Usage: jailhouse { COMMAND | --help | --version }';
const CELLS = 'sys/devices/jailhouse/cells';
const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };

/** Extra configuration files the cases use, written into the machine before the case runs. */
function writeConfigs(m: SimMachine): void {
  // Cells side by side: without the nuttx cell's link ends, which the hypervisor lets only one cell hold (EBUSY).
  const cell = (name: string, cpus: number[]) => encodeConfig({ ...nuttxCellConfig(EXAMPLE), name, cpus, pciDevices: [] });
  writeFileSync(join(m.dir, 'etc/jailhouse/other-cpu3.cell'), cell('other', [3]));
  writeFileSync(join(m.dir, 'etc/jailhouse/cpu0.cell'), cell('zero', [0]));
  writeFileSync(join(m.dir, 'etc/jailhouse/cpu9.cell'), cell('nine', [9]));
  writeFileSync(join(m.dir, 'etc/jailhouse/a.cell'), cell('a', [1]));
  writeFileSync(join(m.dir, 'etc/jailhouse/b.cell'), cell('b', [2]));
  writeFileSync(join(m.dir, 'etc/jailhouse/c.cell'), cell('c', [3]));
  writeFileSync(join(m.dir, 'etc/jailhouse/d.cell'), cell('d', [1]));
  writeFileSync(join(m.dir, 'etc/jailhouse/one.cell'), cell('1', [2]));
  writeFileSync(join(m.dir, 'etc/jailhouse/rev14.cell'), encodeConfig(crtosSystemConfig({ ...EXAMPLE, revision: 14 })));
  writeFileSync(join(m.dir, 'etc/jailhouse/garbage.cell'), Buffer.alloc(300, 0x41));
  writeFileSync(join(m.dir, 'etc/jailhouse/tiny.cell'), Buffer.from('JHCELL'));
  writeFileSync(join(m.dir, 'etc/jailhouse/cell-rev14.cell'), encodeConfig({ ...nuttxCellConfig({ ...EXAMPLE, revision: 14 }), name: 'r14' }));
  writeFileSync(join(m.dir, 'etc/jailhouse/arm-rev14.cell'), encodeConfig({ ...nuttxCellConfig({ ...EXAMPLE, revision: 14, arch: 'arm64' }), name: 'arm' }));
  writeFileSync(join(m.dir, 'etc/jailhouse/arm-sys-rev14.cell'), encodeConfig(crtosSystemConfig({ ...EXAMPLE, revision: 14, arch: 'arm64' })));
  writeFileSync(join(m.dir, 'etc/jailhouse/huge.cell'), Buffer.concat([encodeConfig({ ...nuttxCellConfig(EXAMPLE), name: 'huge' }), Buffer.alloc(70000)]));
  const active = { ...nuttxCellConfig(EXAMPLE), flags: [] as string[], pciDevices: [] };
  writeFileSync(join(m.dir, 'etc/jailhouse/active.cell'), encodeConfig({ ...active, name: 'active', cpus: [2] }));
  writeFileSync(join(m.dir, 'etc/jailhouse/patient.cell'), encodeConfig({ ...active, name: 'patient', cpus: [1], msgReplyTimeout: 1000n }));
  const broken = nuttxCellConfig(EXAMPLE);
  writeFileSync(join(m.dir, 'etc/jailhouse/bad-link.cell'), encodeConfig({ ...broken, name: 'badlink', pciDevices: broken.pciDevices.map((p) => ({ ...p, shmemRegionsStart: 7 })) }));
  // The root cell's ends of the links: regions past its end, or the same end twice.
  const sys = crtosSystemConfig(EXAMPLE);
  const rootDevices = (edit: (d: PciDevice) => PciDevice[]) => encodeConfig({ ...sys, rootCell: { ...sys.rootCell, pciDevices: sys.rootCell.pciDevices.flatMap(edit) } });
  writeFileSync(join(m.dir, 'etc/jailhouse/root-bad-link.cell'), rootDevices((d) => [{ ...d, shmemRegionsStart: 8 }]));
  writeFileSync(join(m.dir, 'etc/jailhouse/root-twice.cell'), rootDevices((d) => [d, d]));
  writeFileSync(join(m.dir, 'etc/jailhouse/twin.cell'), encodeConfig({ ...nuttxCellConfig(EXAMPLE), name: 'twin', cpus: [2] }));
  // crtosd writes the configurations it generates under /run/crtos.
  mkdirSync(join(m.dir, 'run/crtos/jailhouse.hypervisor'), { recursive: true });
  writeFileSync(join(m.dir, 'run/crtos/jailhouse.hypervisor/system.cell'), encodeConfig(sys));
  writeFileSync(join(m.dir, 'etc/jailhouse/hv-elsewhere.cell'), encodeConfig(crtosSystemConfig({ ...EXAMPLE, hypervisorMemory: { physStart: 0x10000000n, size: 0x6000000n } })));
}

interface Case {
  name: string;
  machine?: Partial<MachineDescription>;
  stage?: BringUpStage;
  /** In-process commands after the stage (tool, args). */
  setup?: [string, string[]][];
  before?: (m: SimMachine) => Promise<void>;
  run: string[];
  exit: number;
  stdout?: string | RegExp;
  stderr?: string | RegExp;
  /** Machine files after the command: content, or null for "does not exist". */
  files?: Record<string, string | null>;
  /** More checks once the command ran and its files were checked. */
  after?: (m: SimMachine) => Promise<void>;
}

const jh = (...args: string[]) => ['jailhouse', ...args];
const SYS = '/etc/jailhouse/sysconfig.cell';
const NUTTX = '/etc/jailhouse/nuttx.cell';
const IMAGE = '/opt/crtos/nuttx.bin';

const ACTIVE_RUNNING: [string, string[]][] = [
  ['jailhouse', ['cell', 'create', '/etc/jailhouse/active.cell']],
  ['jailhouse', ['cell', 'load', 'active', IMAGE]],
  ['jailhouse', ['cell', 'start', 'active']],
];

const CASES: Case[] = [
  // CLI grammar, usage and messages
  { name: 'no arguments: usage on stdout, exit 1', run: jh(), exit: 1, stdout: USAGE_HEAD },
  { name: '--help: usage, exit 0', run: jh('--help'), exit: 0, stdout: USAGE_HEAD },
  { name: '--version', run: jh('--version'), exit: 0, stdout: /^Jailhouse management tool v0\.12\n$/ },
  { name: 'unknown command: usage, exit 1', run: jh('frobnicate'), exit: 1, stdout: USAGE_HEAD },
  { name: 'enable without SYSCONFIG: usage', stage: 'module', run: jh('enable'), exit: 1, stdout: USAGE_HEAD },
  { name: 'enable with two arguments: usage', stage: 'module', run: jh('enable', SYS, SYS), exit: 1, stdout: USAGE_HEAD },
  { name: 'enable a missing file', stage: 'module', run: jh('enable', '/nope.cell'), exit: 1, stderr: 'opening /nope.cell: No such file or directory\n' },
  { name: 'enable without the module: cannot open the device', run: jh('enable', SYS), exit: 1, stderr: 'opening /dev/jailhouse: No such file or directory\n' },
  { name: 'cell with no subcommand: usage', run: jh('cell'), exit: 1, stdout: USAGE_HEAD },
  { name: 'unknown cell subcommand: usage', stage: 'enabled', run: jh('cell', 'bogus'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell create with no file: usage', stage: 'enabled', run: jh('cell', 'create'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell start with two identifiers: usage', stage: 'created', run: jh('cell', 'start', 'nuttx', 'extra'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell start --name without a name: usage', stage: 'created', run: jh('cell', 'start', '--name'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell load without an image: usage', stage: 'created', run: jh('cell', 'load', 'nuttx'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell load -s without a string: usage', stage: 'created', run: jh('cell', 'load', 'nuttx', '-s'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell load -a without an address: usage', stage: 'created', run: jh('cell', 'load', 'nuttx', IMAGE, '-a'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell load with a bad address: usage', stage: 'created', run: jh('cell', 'load', 'nuttx', IMAGE, '-a', '0x1g'), exit: 1, stdout: USAGE_HEAD },
  { name: 'cell load a missing image', stage: 'created', run: jh('cell', 'load', 'nuttx', '/opt/none.bin'), exit: 1, stderr: 'opening /opt/none.bin: No such file or directory\n' },
  { name: 'extension command without helper: execvp fails', stage: 'created', run: jh('cell', 'stats', 'nuttx'), exit: 1, stderr: 'execvp: No such file or directory\n' },
  { name: 'config check without helper: execvp fails', run: jh('config', 'check', SYS), exit: 1, stderr: 'execvp: No such file or directory\n' },
  { name: 'cell list without the module: silent success', run: jh('cell', 'list'), exit: 0, stdout: /^$/ },
  { name: 'cell list while disabled: no header', stage: 'module', run: jh('cell', 'list'), exit: 0, stdout: /^$/ },
  {
    name: 'cell list: upstream column widths',
    stage: 'created',
    run: jh('cell', 'list'),
    exit: 0,
    stdout:
      `${'ID'.padEnd(8)}${'Name'.padEnd(24)}${'State'.padEnd(18)}${'Assigned CPUs'.padEnd(24)}${'Failed CPUs'.padEnd(24)}\n` +
      `${'0'.padEnd(8)}${'RootCell'.padEnd(24)}${'running'.padEnd(18)}${'0-2'.padEnd(24)}${''.padEnd(24)}\n` +
      `${'1'.padEnd(8)}${'nuttx'.padEnd(24)}${'shut down'.padEnd(18)}${'3'.padEnd(24)}${''.padEnd(24)}\n`,
  },
  { name: 'console before any enable: EAGAIN', stage: 'module', run: jh('console'), exit: 1, stderr: 'read(console): Resource temporarily unavailable\n' },
  { name: 'console after enable', stage: 'enabled', run: jh('console'), exit: 0, stdout: /Initializing Jailhouse hypervisor/ },

  // errno of ENABLE
  {
    name: 'enable: root cell appears as cells/0',
    stage: 'module',
    run: jh('enable', SYS),
    exit: 0,
    files: {
      'sys/devices/jailhouse/enabled': '1\n',
      [`${CELLS}/0/name`]: 'RootCell\n',
      [`${CELLS}/0/state`]: 'running\n',
      [`${CELLS}/0/cpus_assigned`]: 'f\n',
      [`${CELLS}/0/cpus_assigned_list`]: '0-3\n',
      [`${CELLS}/0/cpus_failed_list`]: '\n',
      'dev/jailhouse': '',
    },
  },
  {
    name: "enable: the root cell's ivshmem devices appear as PCI devices, the hypervisor console names them",
    stage: 'module',
    run: jh('enable', SYS),
    exit: 0,
    files: {
      'sys/bus/pci/devices/0000:00:0e.0/vendor': '0x110a\n',
      'sys/bus/pci/devices/0000:00:0e.0/device': '0x4106\n',
      'sys/bus/pci/devices/0000:00:0e.0/class': '0xff0002\n',
      'sys/bus/pci/devices/0000:00:0d.0/class': '0xff0001\n',
    },
    after: async (m) => {
      expect((await m.runInProcess('jailhouse', ['console'])).stdout).toMatch(/Adding virtual PCI device 00:0e\.0 to cell "RootCell"\nAdding virtual PCI device 00:0d\.0 to cell "RootCell"\nPage pool usage after late setup: mem \d+\/\d+, remap \d+\/\d+\nActivating hypervisor\n$/);
    },
  },
  {
    name: 'enable a generated system configuration under /run/crtos',
    stage: 'module',
    run: jh('enable', '/run/crtos/jailhouse.hypervisor/system.cell'),
    exit: 0,
    files: { 'sys/devices/jailhouse/enabled': '1\n', 'sys/bus/pci/devices/0000:00:0e.0/class': '0xff0002\n' },
  },
  {
    name: 'enable with root ivshmem regions past the root cell: EINVAL, no device, the console kept',
    stage: 'module',
    run: jh('enable', '/etc/jailhouse/root-bad-link.cell'),
    exit: 1,
    stderr: 'JAILHOUSE_ENABLE: Invalid argument\n',
    files: { 'sys/devices/jailhouse/enabled': '0\n', 'sys/bus/pci/devices/0000:00:0e.0/class': null },
    after: async (m) => {
      expect((await m.runInProcess('jailhouse', ['console'])).stdout).toMatch(/Adding virtual PCI device 00:0e\.0 to cell "RootCell"\n$/);
    },
  },
  { name: 'enable with the same link end twice in the root cell: EBUSY', stage: 'module', run: jh('enable', '/etc/jailhouse/root-twice.cell'), exit: 1, stderr: 'JAILHOUSE_ENABLE: Device or resource busy\n' },
  {
    name: 'disable: the PCI devices are gone',
    stage: 'drivers',
    run: jh('disable'),
    exit: 0,
    files: { 'sys/bus/pci/devices/0000:00:0e.0/class': null, 'sys/bus/pci/devices/0000:00:0d.0/class': null, 'dev/shadow-process0': null },
    after: async (m) => {
      expect(readdirSync(join(m.dir, 'sys/bus/pci/devices'))).toEqual([]);
    },
  },
  { name: 'enable twice: EBUSY', stage: 'enabled', run: jh('enable', SYS), exit: 1, stderr: 'JAILHOUSE_ENABLE: Device or resource busy\n' },
  { name: 'enable a cell config: EINVAL', stage: 'module', run: jh('enable', NUTTX), exit: 1, stderr: 'JAILHOUSE_ENABLE: Invalid argument\n', files: { 'sys/devices/jailhouse/enabled': '0\n' } },
  { name: 'enable garbage: EINVAL', stage: 'module', run: jh('enable', '/etc/jailhouse/garbage.cell'), exit: 1, stderr: 'JAILHOUSE_ENABLE: Invalid argument\n' },
  { name: 'enable a revision-14 file on the rev-12 fork: EINVAL', stage: 'module', run: jh('enable', '/etc/jailhouse/rev14.cell'), exit: 1, stderr: 'JAILHOUSE_ENABLE: Invalid argument\n' },
  { name: 'revision is checked before busy', stage: 'enabled', run: jh('enable', '/etc/jailhouse/rev14.cell'), exit: 1, stderr: 'JAILHOUSE_ENABLE: Invalid argument\n' },
  { name: 'enable with hypervisor memory outside the reserved region: EINVAL', stage: 'module', run: jh('enable', '/etc/jailhouse/hv-elsewhere.cell'), exit: 1, stderr: 'JAILHOUSE_ENABLE: Invalid argument\n' },
  {
    name: 'enable with a CPU offline (online CPUs differ from the root set): EINVAL',
    stage: 'module',
    before: (m) => m.setCpuOnline(2, false),
    run: jh('enable', SYS),
    exit: 1,
    stderr: 'JAILHOUSE_ENABLE: Invalid argument\n',
  },

  // errno of DISABLE, lifecycle
  { name: 'disable when not enabled: EINVAL', stage: 'module', run: jh('disable'), exit: 1, stderr: 'JAILHOUSE_DISABLE: Invalid argument\n' },
  {
    name: 'disable destroys cells first and brings their CPUs back',
    stage: 'running',
    run: jh('disable'),
    exit: 0,
    files: {
      'sys/devices/jailhouse/enabled': '0\n',
      [`${CELLS}/0/name`]: null,
      [`${CELLS}/1/name`]: null,
      'sys/devices/system/cpu/online': '0-3\n',
      'sys/devices/system/cpu/cpu3/online': '1\n',
    },
  },
  {
    name: 'disable with a root CPU offline: EBUSY',
    stage: 'enabled',
    before: (m) => m.setCpuOnline(1, false),
    run: jh('disable'),
    exit: 1,
    stderr: 'JAILHOUSE_DISABLE: Device or resource busy\n',
    files: { 'sys/devices/jailhouse/enabled': '1\n' },
  },

  // errno of CELL_CREATE, sysfs formats
  { name: 'create while disabled: EINVAL', stage: 'module', run: jh('cell', 'create', NUTTX), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n' },
  {
    name: 'create: state shut down, CPU taken from root and offlined',
    stage: 'enabled',
    run: jh('cell', 'create', NUTTX),
    exit: 0,
    files: {
      [`${CELLS}/1/name`]: 'nuttx\n',
      [`${CELLS}/1/state`]: 'shut down\n',
      [`${CELLS}/1/cpus_assigned`]: '8\n',
      [`${CELLS}/1/cpus_assigned_list`]: '3\n',
      [`${CELLS}/1/cpus_failed_list`]: '\n',
      [`${CELLS}/0/cpus_assigned_list`]: '0-2\n',
      'sys/devices/system/cpu/online': '0-2\n',
      'sys/devices/system/cpu/cpu3/online': '0\n',
    },
  },
  { name: 'create a duplicate name: EEXIST', stage: 'created', run: jh('cell', 'create', NUTTX), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: File exists\n' },
  {
    name: 'create on CPUs another cell holds: EBUSY',
    stage: 'created',
    run: jh('cell', 'create', '/etc/jailhouse/other-cpu3.cell'),
    exit: 1,
    stderr: 'JAILHOUSE_CELL_CREATE: Device or resource busy\n',
    files: { [`${CELLS}/2/name`]: null },
  },
  { name: 'create on a CPU the machine lacks: EBUSY', stage: 'enabled', run: jh('cell', 'create', '/etc/jailhouse/cpu9.cell'), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Device or resource busy\n' },
  {
    name: 'create on x86 CPU 0: EINVAL',
    stage: 'enabled',
    run: jh('cell', 'create', '/etc/jailhouse/cpu0.cell'),
    exit: 1,
    stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n',
    files: { 'sys/devices/system/cpu/online': '0-3\n' },
  },
  { name: 'create from a system config: EINVAL', stage: 'enabled', run: jh('cell', 'create', SYS), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n' },
  { name: 'create from a file shorter than a cell header: EINVAL', stage: 'enabled', run: jh('cell', 'create', '/etc/jailhouse/tiny.cell'), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n' },
  { name: 'create a cell of another revision: EINVAL', stage: 'enabled', run: jh('cell', 'create', '/etc/jailhouse/cell-rev14.cell'), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n' },
  { name: 'create from more than 16 pages: E2BIG', stage: 'enabled', run: jh('cell', 'create', '/etc/jailhouse/huge.cell'), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Argument list too long\n' },
  {
    name: 'create: the cell connects to the root cell on both links',
    stage: 'enabled',
    run: jh('cell', 'create', NUTTX),
    exit: 0,
    after: async (m) => {
      const console = (await m.runInProcess('jailhouse', ['console'])).stdout;
      expect(console).toContain('Adding virtual PCI device 00:0e.0 to cell "nuttx"\nShared memory connection established, peer cells:\n "RootCell"\n');
      expect((await m.state()).jailhouse.cells[0]?.ivshmem).toEqual([{ bdf: 0x70, id: 1 }, { bdf: 0x68, id: 1 }]);
    },
  },
  {
    name: 'create a second cell holding the same link ends: EBUSY; once the first is destroyed the ends are free',
    stage: 'created',
    run: jh('cell', 'create', '/etc/jailhouse/twin.cell'),
    exit: 1,
    stderr: 'JAILHOUSE_CELL_CREATE: Device or resource busy\n',
    files: { [`${CELLS}/2/name`]: null, 'sys/devices/system/cpu/online': '0-2\n' },
    after: async (m) => {
      expect((await m.runInProcess('jailhouse', ['cell', 'destroy', 'nuttx'])).code).toBe(0);
      expect((await m.runInProcess('jailhouse', ['cell', 'create', '/etc/jailhouse/twin.cell'])).code).toBe(0);
    },
  },
  { name: 'create with ivshmem regions out of range: EINVAL', stage: 'enabled', run: jh('cell', 'create', '/etc/jailhouse/bad-link.cell'), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n', files: { 'sys/devices/system/cpu/online': '0-3\n' } },
  {
    name: 'create for another architecture (rev 14): success without a cell, as upstream',
    machine: { configRevision: 14 },
    stage: 'enabled',
    run: jh('cell', 'create', '/etc/jailhouse/arm-rev14.cell'),
    exit: 0,
    files: { [`${CELLS}/1/name`]: null, 'sys/devices/system/cpu/online': '0-3\n' },
  },
  { name: 'enable for another architecture (rev 14): EINVAL', machine: { configRevision: 14 }, stage: 'module', run: jh('enable', '/etc/jailhouse/arm-sys-rev14.cell'), exit: 1, stderr: 'JAILHOUSE_ENABLE: Invalid argument\n' },
  { name: 'create from garbage: EINVAL', stage: 'enabled', run: jh('cell', 'create', '/etc/jailhouse/garbage.cell'), exit: 1, stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n' },
  {
    name: 'ids are reused lowest first',
    stage: 'enabled',
    setup: [
      ['jailhouse', ['cell', 'create', '/etc/jailhouse/a.cell']],
      ['jailhouse', ['cell', 'create', '/etc/jailhouse/b.cell']],
      ['jailhouse', ['cell', 'create', '/etc/jailhouse/c.cell']],
      ['jailhouse', ['cell', 'destroy', '--name', 'a']],
    ],
    run: jh('cell', 'create', '/etc/jailhouse/d.cell'),
    exit: 0,
    files: { [`${CELLS}/1/name`]: 'd\n', [`${CELLS}/2/name`]: 'b\n', [`${CELLS}/3/name`]: 'c\n' },
  },

  // cell identification, errno of LOAD/START/DESTROY
  { name: 'load an unknown cell: ENOENT', stage: 'created', run: jh('cell', 'load', 'ghost', IMAGE), exit: 1, stderr: 'JAILHOUSE_CELL_LOAD: No such file or directory\n' },
  { name: 'load the root cell by id: EINVAL', stage: 'created', run: jh('cell', 'load', '0', IMAGE), exit: 1, stderr: 'JAILHOUSE_CELL_LOAD: Invalid argument\n' },
  { name: 'load the root cell by name: EINVAL', stage: 'created', run: jh('cell', 'load', '--name', 'RootCell', IMAGE), exit: 1, stderr: 'JAILHOUSE_CELL_LOAD: Invalid argument\n' },
  { name: 'load while disabled: EINVAL', stage: 'module', run: jh('cell', 'load', 'nuttx', IMAGE), exit: 1, stderr: 'JAILHOUSE_CELL_LOAD: Invalid argument\n' },
  { name: 'load outside a WRITE|LOADABLE region: EINVAL', stage: 'created', run: jh('cell', 'load', 'nuttx', IMAGE, '-a', '0x40000000'), exit: 1, stderr: 'JAILHOUSE_CELL_LOAD: Invalid argument\n' },
  { name: 'load crossing the region end: EINVAL', stage: 'created', run: jh('cell', 'load', 'nuttx', IMAGE, '-a', '0x3fff0001'), exit: 1, stderr: 'JAILHOUSE_CELL_LOAD: Invalid argument\n' },
  {
    name: 'load an image and a string at hex and octal addresses',
    stage: 'created',
    run: jh('cell', 'load', 'nuttx', IMAGE, '-a', '0', '--string', 'console=ttyS0', '--address', '010000'),
    exit: 0,
    files: { [`${CELLS}/1/state`]: 'shut down\n' },
  },
  { name: 'load by id in hex', stage: 'created', run: jh('cell', 'load', '0x1', IMAGE), exit: 0 },
  {
    name: 'a cell named "1" is reached with --name',
    stage: 'enabled',
    setup: [['jailhouse', ['cell', 'create', '/etc/jailhouse/one.cell']]],
    run: jh('cell', 'start', '--name', '1'),
    exit: 0,
    files: { [`${CELLS}/1/state`]: 'running\n' },
  },
  {
    name: 'a number is an id, not a name',
    stage: 'enabled',
    setup: [['jailhouse', ['cell', 'create', '/etc/jailhouse/a.cell']], ['jailhouse', ['cell', 'create', '/etc/jailhouse/one.cell']]],
    run: jh('cell', 'start', '1'),
    exit: 0,
    files: { [`${CELLS}/1/state`]: 'running\n', [`${CELLS}/2/state`]: 'shut down\n' },
  },
  { name: 'start: running', stage: 'loaded', run: jh('cell', 'start', 'nuttx'), exit: 0, files: { [`${CELLS}/1/state`]: 'running\n' } },
  { name: 'start an unknown cell: ENOENT', stage: 'loaded', run: jh('cell', 'start', 'ghost'), exit: 1, stderr: 'JAILHOUSE_CELL_START: No such file or directory\n' },
  { name: 'start the root cell: EINVAL', stage: 'loaded', run: jh('cell', 'start', '0'), exit: 1, stderr: 'JAILHOUSE_CELL_START: Invalid argument\n' },
  { name: 'start while disabled: EINVAL', stage: 'module', run: jh('cell', 'start', 'nuttx'), exit: 1, stderr: 'JAILHOUSE_CELL_START: Invalid argument\n' },
  { name: 'shutdown: shut down', stage: 'running', run: jh('cell', 'shutdown', 'nuttx'), exit: 0, files: { [`${CELLS}/1/state`]: 'shut down\n' } },
  { name: 'shutdown reports as CELL_LOAD', stage: 'running', run: jh('cell', 'shutdown', 'ghost'), exit: 1, stderr: 'JAILHOUSE_CELL_LOAD: No such file or directory\n' },
  {
    name: 'load clears a failed state and failed CPUs',
    stage: 'running',
    before: (m) => m.failCell('nuttx'),
    run: jh('cell', 'load', 'nuttx', IMAGE),
    exit: 0,
    files: { [`${CELLS}/1/state`]: 'shut down\n', [`${CELLS}/1/cpus_failed_list`]: '\n' },
  },
  {
    name: 'destroy: directory gone, CPUs back to root and online',
    stage: 'running',
    run: jh('cell', 'destroy', 'nuttx'),
    exit: 0,
    files: { [`${CELLS}/1/name`]: null, [`${CELLS}/0/cpus_assigned_list`]: '0-3\n', 'sys/devices/system/cpu/online': '0-3\n' },
  },
  {
    name: 'destroy brings back only the CPUs the driver took offline',
    stage: 'enabled',
    setup: [['jailhouse', ['cell', 'create', '/etc/jailhouse/b.cell']]],
    before: async (m) => {
      // CPU 1 was offline before create: the driver did not offline it, so it stays offline.
      await m.setCpuOnline(1, false);
      const r = await m.runInProcess('jailhouse', ['cell', 'create', '/etc/jailhouse/a.cell']);
      expect(r.code).toBe(0);
    },
    run: jh('cell', 'destroy', 'a'),
    exit: 0,
    files: { 'sys/devices/system/cpu/online': '0,3\n', [`${CELLS}/0/cpus_assigned_list`]: '0-1,3\n' },
  },
  { name: 'destroy an unknown cell: ENOENT', stage: 'created', run: jh('cell', 'destroy', 'ghost'), exit: 1, stderr: 'JAILHOUSE_CELL_DESTROY: No such file or directory\n' },
  { name: 'destroy the root cell: EINVAL', stage: 'created', run: jh('cell', 'destroy', '--name', 'RootCell'), exit: 1, stderr: 'JAILHOUSE_CELL_DESTROY: Invalid argument\n' },
  { name: 'destroy while disabled: EINVAL', stage: 'module', run: jh('cell', 'destroy', 'nuttx'), exit: 1, stderr: 'JAILHOUSE_CELL_DESTROY: Invalid argument\n' },

  // shutdown permission of non-passive cells
  ...(['shutdown', 'destroy', 'start'] as const).map((verb): Case => ({
    name: `a running non-passive cell that denies: ${verb} is EPERM and the cell keeps running`,
    stage: 'enabled',
    setup: ACTIVE_RUNNING,
    before: (m) => m.setCellReply('active', 'deny'),
    run: jh('cell', verb, 'active'),
    exit: 1,
    stderr: `${verb === 'start' ? 'JAILHOUSE_CELL_START' : verb === 'destroy' ? 'JAILHOUSE_CELL_DESTROY' : 'JAILHOUSE_CELL_LOAD'}: Operation not permitted\n`,
    files: { [`${CELLS}/1/state`]: 'running\n' },
  })),
  {
    name: 'disable stops at a cell that denies: EPERM',
    stage: 'enabled',
    setup: ACTIVE_RUNNING,
    before: (m) => m.setCellReply('active', 'deny'),
    run: jh('disable'),
    exit: 1,
    stderr: 'JAILHOUSE_DISABLE: Operation not permitted\n',
    files: { 'sys/devices/jailhouse/enabled': '1\n', [`${CELLS}/1/state`]: 'running\n' },
  },
  {
    name: 'a shut-down cell is not asked',
    stage: 'enabled',
    setup: [['jailhouse', ['cell', 'create', '/etc/jailhouse/active.cell']]],
    before: (m) => m.setCellReply('active', 'deny'),
    run: jh('cell', 'destroy', 'active'),
    exit: 0,
  },
  { name: 'a passive cell is never asked', stage: 'running', before: (m) => m.setCellReply('nuttx', 'deny'), run: jh('cell', 'shutdown', 'nuttx'), exit: 0, files: { [`${CELLS}/1/state`]: 'shut down\n' } },
  {
    name: 'a cell that does not answer within msg_reply_timeout is failed, and the operation goes on',
    stage: 'enabled',
    setup: [
      ['jailhouse', ['cell', 'create', '/etc/jailhouse/patient.cell']],
      ['jailhouse', ['cell', 'start', 'patient']],
    ],
    before: (m) => m.setCellReply('patient', 'silent'),
    run: jh('cell', 'destroy', 'patient'),
    exit: 0,
    files: { [`${CELLS}/1/name`]: null, 'sys/devices/system/cpu/online': '0-3\n' },
  },

  // running/locked: reconfiguration of other cells refused
  {
    name: 'create while a cell is running/locked: EPERM',
    stage: 'running',
    before: (m) => m.setCellState('nuttx', 'running/locked'),
    run: jh('cell', 'create', '/etc/jailhouse/a.cell'),
    exit: 1,
    stderr: 'JAILHOUSE_CELL_CREATE: Operation not permitted\n',
    files: { [`${CELLS}/1/state`]: 'running/locked\n' },
  },
  {
    name: 'destroy another cell while one is running/locked: EPERM',
    stage: 'running',
    setup: [['jailhouse', ['cell', 'create', '/etc/jailhouse/a.cell']]],
    before: (m) => m.setCellState('nuttx', 'running/locked'),
    run: jh('cell', 'destroy', 'a'),
    exit: 1,
    stderr: 'JAILHOUSE_CELL_DESTROY: Operation not permitted\n',
  },
  {
    name: 'the locked cell itself can still be destroyed',
    stage: 'running',
    before: (m) => m.setCellState('nuttx', 'running/locked'),
    run: jh('cell', 'destroy', 'nuttx'),
    exit: 0,
    files: { [`${CELLS}/1/name`]: null },
  },
  {
    name: 'disable stops at a cell it may not destroy because another is running/locked: EPERM',
    stage: 'enabled',
    setup: [['jailhouse', ['cell', 'create', '/etc/jailhouse/a.cell']]],
    before: async (m) => {
      await m.bringUp('running');
      await m.setCellState('nuttx', 'running/locked');
    },
    run: jh('disable'),
    exit: 1,
    stderr: 'JAILHOUSE_DISABLE: Operation not permitted\n',
    files: { [`${CELLS}/1/name`]: 'a\n', [`${CELLS}/2/state`]: 'running/locked\n', 'sys/devices/jailhouse/enabled': '1\n' },
  },
  {
    name: 'disable with only the locked cell left: it is destroyed too',
    stage: 'running',
    before: (m) => m.setCellState('nuttx', 'running/locked'),
    run: jh('disable'),
    exit: 0,
    files: { 'sys/devices/jailhouse/enabled': '0\n' },
  },

  // the module is pinned while enabled
  { name: 'rmmod jailhouse while enabled: in use', stage: 'enabled', run: ['rmmod', 'jailhouse'], exit: 1, stderr: 'rmmod: ERROR: Module jailhouse is in use\n', files: { 'dev/jailhouse': '' } },
  {
    name: 'rmmod jailhouse after disable: sysfs and device gone',
    stage: 'enabled',
    setup: [['jailhouse', ['disable']]],
    run: ['rmmod', 'jailhouse'],
    exit: 0,
    files: { 'sys/devices/jailhouse/enabled': null, 'dev/jailhouse': null, 'proc/modules': '' },
  },
];

describe.concurrent('stand-in jailhouse against upstream: CLI, sysfs, errno, lifecycle', () => {
  it.each(CASES)('$name', async (c) => {
    const m = await tempMachine(c.machine);
    writeConfigs(m);
    if (c.stage) await m.bringUp(c.stage);
    for (const [tool, args] of c.setup ?? []) {
      const r = await m.runInProcess(tool, args);
      expect(r.code, `setup ${tool} ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    await c.before?.(m);
    const [tool, ...args] = c.run as [string, ...string[]];
    // Machine paths on the command line are resolved under the root, as crtosd's host does.
    const resolved = args.map((a) => (['/etc/', '/opt/', '/run/'].some((p) => a.startsWith(p)) ? join(m.dir, a) : a));
    const r = await m.run(tool, resolved);
    const stderr = r.stderr.replaceAll(m.dir, '');
    expect(r.code, `stderr: ${stderr}`).toBe(c.exit);
    if (typeof c.stdout === 'string') expect(r.stdout).toContain(c.stdout);
    else if (c.stdout) expect(r.stdout).toMatch(c.stdout);
    if (typeof c.stderr === 'string') expect(stderr).toBe(c.stderr);
    else if (c.stderr) expect(stderr).toMatch(c.stderr);
    else if (c.exit === 0) expect(stderr).toBe('');
    for (const [path, expected] of Object.entries(c.files ?? {})) expect(machineFile(m, path), path).toBe(expected);
    await c.after?.(m);
    await m.dispose();
  });
});

describe('stand-in jailhouse console --follow', () => {
  it('prints the ring, then what the hypervisor appends, until killed', async () => {
    const { spawn } = await import('node:child_process');
    const m = await tempMachine();
    await m.bringUp('enabled');
    const child = spawn(join(m.binDir, 'jailhouse'), ['console', '--follow'], { env: m.env });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const sources = [dataOf(child.stdout)];
    await until('the ring to be printed', () => out.includes('Activating hypervisor'), { sources, timeoutMs: 5000, detail: () => out });
    expect((await m.runInProcess('jailhouse', ['disable'])).code).toBe(0);
    await until('the appended line to be printed', () => out.includes('Shutting down hypervisor'), { sources, timeoutMs: 5000, detail: () => out });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});

describe('stand-in jailhouse cell list order', () => {
  it('lists cells in string order of their ids, as scandir with alphasort does', async () => {
    const m = await tempMachine({ cpus: 12 });
    await m.bringUp('enabled');
    const o = { ...EXAMPLE, cpus: 12 };
    for (let cpu = 1; cpu <= 10; cpu++) {
      writeFileSync(join(m.dir, `etc/jailhouse/c${cpu}.cell`), encodeConfig({ ...nuttxCellConfig(o), name: `c${cpu}`, cpus: [cpu], pciDevices: [] }));
      expect((await m.runInProcess('jailhouse', ['cell', 'create', `/etc/jailhouse/c${cpu}.cell`])).code).toBe(0);
    }
    const ids = (await m.run('jailhouse', ['cell', 'list'])).stdout.split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0]);
    expect(ids).toEqual(['0', '1', '10', '2', '3', '4', '5', '6', '7', '8', '9']);
  });
});
