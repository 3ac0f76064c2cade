/**
 * The two machines of the fleet example (units/fleet/) besides the cRTOS box (the `crtos`
 * example): an arm64 Jailhouse board with two RTOS cells, and a gateway without Jailhouse that
 * runs only a Linux-side process. Each writes the files its board support package would install,
 * at the paths the fleet's units name through specifiers (`/etc/jailhouse/%b.cell` with %b the
 * board's first device-tree compatible string).
 * `crtos-sim create DIR --example fleet-arm64` / `--example linux-only`.
 */
import { encodeConfig } from '../jailhouse/index.js';
import { parseConfigDescription } from '../jailhouse/description/parse.js';
import type { MachineDescription } from './description.js';
import { deterministicImage } from './image-bytes.js';

/** The arm64 board's first compatible string: its board id, %b in the fleet's units. */
export const RT_BOARD_ID = 'example,rt-board';
/** The gateway's first compatible string. */
export const GATEWAY_ID = 'example,gateway';

export const FREERTOS_IMAGE_FILE = '/opt/fleet/freertos.bin';
export const ZEPHYR_IMAGE_FILE = '/opt/fleet/zephyr.bin';
export const TELEMETRY_FILE = '/opt/fleet/telemetry';

const MIB = 1024 ** 2;

/**
 * A four-core Cortex-A53 board (QEMU virt's memory map and GICv3): Linux keeps CPUs 0-1, FreeRTOS
 * runs on CPU 2 and a Zephyr demo on CPU 3. Revision 14 configurations (upstream's current
 * format, which records the architecture), 2 GiB of RAM from 0x40000000 with the hypervisor's
 * 4 MiB at 0x7fc00000 (where upstream's QEMU arm64 configuration has it), reserved by the device
 * tree, and the inmates' 8 MiB below it.
 */
export const FLEET_ARM64_DESCRIPTION: Partial<MachineDescription> = {
  arch: 'arm64',
  cpus: 4,
  offlineCpus: [],
  configRevision: 14,
  hypervisorMemory: { physStart: '0x7fc00000', size: '0x400000' },
  kernelRelease: '5.10.0-rt-board-sim',
  modules: [{ name: 'jailhouse', installed: true, size: 45056, effect: 'jailhouse' }],
  readiness: [],
  example: 'fleet-arm64',
  identity: {
    hostname: 'rt-board-01',
    board: { model: 'Example RT board (4x Cortex-A53)', compatible: [RT_BOARD_ID, 'example,a53-soc'] },
    memoryBytes: 2048 * MIB,
  },
};

/** A two-core gateway without Jailhouse: no hypervisor module, one Linux process of the fleet's. */
export const LINUX_ONLY_DESCRIPTION: Partial<MachineDescription> = {
  arch: 'arm64',
  cpus: 2,
  offlineCpus: [],
  kernelRelease: '6.1.0-gateway-sim',
  modules: [],
  readiness: [],
  example: 'linux-only',
  identity: {
    hostname: 'gateway-01',
    board: { model: 'Example gateway (2x Cortex-A55)', compatible: [GATEWAY_ID, 'example,a55-soc'] },
    memoryBytes: 512 * MIB,
  },
};

const UART = { physStart: 0x9000000, size: '4K', flags: ['READ', 'WRITE', 'IO'] };
const PL011 = { address: 0x9000000, size: '4K', type: 'PL011', flags: ['ACCESS_MMIO', 'REGDIST_4'] };
/** Where the two inmates' RAM lies: below the hypervisor, mapped by the root cell until a cell takes it. */
const INMATES = { freertos: 0x7f000000, zephyr: 0x7f400000, size: 4 * MIB };

const RT_BOARD_SYSTEM = {
  kind: 'system',
  revision: 14,
  arch: 'arm64',
  flags: ['VIRTUAL_DEBUG_CONSOLE'],
  hypervisorMemory: { physStart: 0x7fc00000, size: '4M' },
  debugConsole: PL011,
  platformInfo: { arm: { maintenanceIrq: 25, gicVersion: 3, gicdBase: 0x8000000, gicrBase: 0x80a0000 } },
  rootCell: {
    name: 'rt-board',
    cpus: '0-3',
    memoryRegions: [
      UART,
      // Linux RAM, the inmates' 8 MiB (the cells take their part at create), Linux RAM above the hypervisor.
      { physStart: 0x40000000, size: INMATES.freertos - 0x40000000, flags: ['READ', 'WRITE', 'EXECUTE'] },
      { physStart: INMATES.freertos, size: 2 * INMATES.size, flags: ['READ', 'WRITE', 'EXECUTE'] },
      { physStart: 0x80000000, size: '1G', flags: ['READ', 'WRITE', 'EXECUTE'] },
    ],
    irqchips: [{ address: 0x8000000, pinBase: 32, pinBitmap: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff] }],
  },
};

/** An inmate on one CPU: the shared UART, its RAM loadable at guest address 0, the comm region. */
function inmate(name: string, cpu: number, ram: number): object {
  return {
    kind: 'cell',
    revision: 14,
    arch: 'arm64',
    name,
    // The RTOSes do not answer the hypervisor's messages: without this, stopping one (or creating
    // the other next to it) would freeze the board (crtosd refuses such a cell: check-reply.ts).
    flags: ['PASSIVE_COMMREG'],
    cpus: cpu,
    memoryRegions: [
      { ...UART, flags: [...UART.flags, 'ROOTSHARED'] },
      { physStart: ram, virtStart: 0, size: INMATES.size, flags: ['READ', 'WRITE', 'EXECUTE', 'LOADABLE'] },
      { physStart: 0, virtStart: 0x80000000, size: '4K', flags: ['READ', 'WRITE', 'COMM_REGION'] },
    ],
    console: PL011,
  };
}

function encodeDescription(doc: object): Uint8Array {
  const parsed = parseConfigDescription(doc);
  if (!parsed.ok) throw new Error(`fleet example configuration: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return encodeConfig(parsed.config);
}

/** 16 KiB of deterministic bytes per RTOS, so the fleet's units can pin their sha256. */
export function freertosImage(): Uint8Array {
  return deterministicImage(16 * 1024, 'crtos-sim freertos image v1\n', 0x6b43a9b5);
}

export function zephyrDemoImage(): Uint8Array {
  return deterministicImage(16 * 1024, 'crtos-sim zephyr demo image v1\n', 0x3c6ef372);
}

/**
 * The gateway's telemetry process: a real one reads sensors and publishes them; this one stays
 * resident until it is stopped or its machine directory is removed (as the inmate host does), so a
 * test that removes the machine leaves no process behind.
 */
const TELEMETRY_SCRIPT = '#!/bin/sh\n# Stand-in telemetry forwarder of the simulated gateway.\nwhile [ -e "$0" ]; do sleep 1; done\n';

export interface ExampleFile {
  path: string;
  content: string | Uint8Array;
  mode?: number;
}

/** The files each fleet machine's board support package installs. */
export function fleetExampleFiles(example: 'fleet-arm64' | 'linux-only'): ExampleFile[] {
  if (example === 'linux-only') return [{ path: TELEMETRY_FILE, content: TELEMETRY_SCRIPT, mode: 0o755 }];
  return [
    { path: `/etc/jailhouse/${RT_BOARD_ID}.cell`, content: encodeDescription(RT_BOARD_SYSTEM) },
    { path: `/etc/jailhouse/${RT_BOARD_ID}/freertos.cell`, content: encodeDescription(inmate('freertos', 2, INMATES.freertos)) },
    { path: `/etc/jailhouse/${RT_BOARD_ID}/zephyr.cell`, content: encodeDescription(inmate('zephyr', 3, INMATES.zephyr)) },
    { path: FREERTOS_IMAGE_FILE, content: freertosImage() },
    { path: ZEPHYR_IMAGE_FILE, content: zephyrDemoImage() },
  ];
}
