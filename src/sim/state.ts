/**
 * The simulated machine's hidden state (what the kernel, driver and hypervisor keep in memory),
 * stored as JSON in DIR/.sim/state.json. The visible files (sysfs, procfs, dev) are rendered
 * from it by render.ts after every change, so they can never disagree with each other; what was
 * rendered last is kept apart (.sim/rendered.json), read by a change only.
 */
import type { MachineDescription } from './description.js';
import { predictableIfname } from '../lib/ifname.js';

/**
 * Exactly the sysfs strings of the driver. `invalid` is what `state` reads while a destroy is
 * under way: the hypervisor no longer knows the cell, the driver has not yet deleted `cells/N`.
 */
export type CellStateString = 'running' | 'running/locked' | 'shut down' | 'failed' | 'Comm ABI mismatch' | 'invalid';

/**
 * A step of a slow driver operation (destroy, disable) that takes effect some time after the step
 * before it, so that readers of sysfs see each intermediate state for at least that long (a step
 * applied late does not shorten the next phase). Applied by the command that scheduled it, or, if
 * that command was killed, by the next command to take the driver mutex: the kernel would have
 * finished it anyway.
 */
export interface SimPendingStep {
  /** Milliseconds after the step before it (or after the scheduling command's transition). */
  afterMs: number;
  /** Epoch ms it is due: set on the first step of the queue only, when the one before it was applied. */
  at?: number;
  action:
    | { kind: 'cell-dropped'; cell: number }
    | { kind: 'cpu-online'; cell: number; cpu: number }
    | { kind: 'cell-gone'; cell: number }
    | { kind: 'root-devices-gone' }
    | { kind: 'disabled' }
    /** The hypervisor gave up waiting for a cell's reply (msg_reply_timeout expired): the cell is `failed`. */
    | { kind: 'reply-timeout'; cell: number }
    /** A console message that follows the steps before it. */
    | { kind: 'printk'; text: string };
}

/** approve: let it happen; deny: refuse (EPERM); silent: never answer (wait, or fail the cell after msg_reply_timeout). */
export type CellReply = 'approve' | 'deny' | 'silent';

export interface SimCell {
  id: number;
  name: string;
  state: CellStateString;
  cpus: number[];
  failedCpus: number[];
  /** CPUs the driver itself took offline at create: only these come back online at destroy. */
  offlinedCpus: number[];
  passive: boolean;
  /** msg_reply_timeout of the configuration (hex): 0 = the hypervisor waits forever for a reply. */
  msgReplyTimeout?: string;
  /** How this cell answers the hypervisor's shutdown requests; a test sets it with SimMachine.setCellReply. */
  reply?: CellReply;
  /** Regions an image may be loaded into (WRITE|LOADABLE), by guest (virtual) address; hex strings. */
  loadableRegions: { virtStart: string; size: string }[];
  /** Images loaded since the last create (cleared by nothing but destroy: memory keeps its content). */
  images: { target: string; size: number; source: string }[];
  /** Changes on every start: the inmate host serves a guest per run (src/sim/inmates). */
  runToken?: string;
  startedAt?: number;
  /** The configuration file the cell was created from, as given on the command line. */
  configPath: string;
  /** The cell's ends of ivshmem links, as the hypervisor registered them at create. */
  ivshmem: SimIvshmemEndpoint[];
  /** Pages of the hypervisor's memory pool the cell holds (its structure and page tables), freed at destroy. */
  poolPages?: number;
}

/** One end of an ivshmem link in the hypervisor: the link is its bdf, the end its shmem_dev_id. */
export interface SimIvshmemEndpoint {
  bdf: number;
  id: number;
}

/** A section of an ivshmem window: physical address (hex string) and size (hex string, 0x0 when absent). */
export interface SimShmemSection {
  physStart: string;
  size: string;
}

/**
 * An ivshmem device of the root cell: the hypervisor's end of the link, and what the root cell's
 * Linux sees of it (a PCI device when `present`). The sections are the root cell's memory regions
 * from shmem_regions_start on: state table, R/W section, one output section per peer.
 */
export interface SimIvshmemDevice extends SimIvshmemEndpoint {
  /** The `domain` field of the configuration: the PCI domain Linux looks its bus up in. */
  domain: number;
  /** Linux shows it as a PCI device (its bus exists; see ivshmem.ts); false also once a disable removed it. */
  present: boolean;
  /** shmem_protocol: the low 16 bits of the PCI class (0xff0000 | protocol). */
  protocol: number;
  /** shmem_peers. */
  peers: number;
  msixVectors: number;
  stateTable: SimShmemSection;
  rw: SimShmemSection;
  outputs: SimShmemSection[];
}

/** mem_pool and remap_pool, in pages: their sizes, and what was in use once the enable was over. */
export interface SimPools {
  memPages: number;
  memUsedAtEnable: number;
  remapPages: number;
  remapUsed: number;
}

export interface SimModule {
  name: string;
  size: number;
  parameters: Record<string, string>;
  /** Users of the module; Jailhouse pins its own module while enabled. rmmod refuses while > 0. */
  refcount: number;
  usedBy: string[];
  /** insmod path, or undefined when loaded by modprobe. */
  path?: string;
  /** rtvmm only: what its load did (an RT domain runs only when it found its image). */
  rtDomain?: SimRtDomain;
  /** jailhouse only: the hypervisor core was loaded by an enable; its sysfs `core` stays until the module goes. */
  hypervisorCore?: boolean;
}

/** The RTMux RT domain rtvmm.ko started at load, with the image it read; gone with the module. */
export interface SimRtDomain {
  running: boolean;
  /** The image read from /vmm/rtos.bin at load, when there was one. */
  image?: { sha256: string; size: number };
}

export interface SimInterface {
  name: string;
  ifindex: number;
  up: boolean;
  addresses: string[];
  kind: 'loopback' | 'ivshmem-net';
  mac: string;
}

export interface SimState {
  version: 1;
  /** CPUs Linux has online. */
  cpusOnline: number[];
  modules: SimModule[];
  jailhouse: {
    enabled: boolean;
    everEnabled: boolean;
    rootName: string;
    /** The root cell's current CPU set (shrinks on create, grows on destroy). */
    rootCpus: number[];
    /** ivshmem devices of the root cell, registered at enable, until the disable is over. */
    ivshmem: SimIvshmemDevice[];
    cells: SimCell[];
    /** The hypervisor's console: a 2 KB ring, so it holds the last 2048 bytes printed. */
    console: string;
    /** Epoch ms of the last enable: the root cell's statistics count from then. */
    enabledAt?: number;
    /** The page pools as the hypervisor sized them at enable (pools.ts). */
    pools?: SimPools;
    /**
     * The root side is frozen for good: a management call waits forever for a cell that never
     * answers and has no reply timeout, with every root CPU suspended. Set once, never cleared.
     */
    frozen?: { cell: string; by: string; at: number };
    /** The system config sets VIRTUAL_DEBUG_CONSOLE (else reading the console is EPERM). */
    consolePermitted?: boolean;
    systemConfigPath?: string;
    /** Steps of a destroy or disable still to take effect, in time order. */
    pending?: SimPendingStep[];
  };
  interfaces: SimInterface[];
  nextIfindex: number;
}

export function initialState(d: MachineDescription): SimState {
  const online = [...Array(d.cpus).keys()].filter((c) => !d.offlineCpus.includes(c));
  return {
    version: 1,
    cpusOnline: online,
    modules: [],
    jailhouse: { enabled: false, everEnabled: false, rootName: '', rootCpus: [], ivshmem: [], cells: [], console: '' },
    interfaces: [{ name: 'lo', ifindex: 1, up: true, addresses: ['127.0.0.1/8'], kind: 'loopback', mac: '00:00:00:00:00:00' }],
    nextIfindex: 2,
  };
}

export { predictableIfname };

export const SHMEM_PROTO_VETH = 0x0001;
export const SHMEM_PROTO_SHADOW = 0x0002;

/**
 * Devices follow the configuration: once Jailhouse is enabled, its virtual PCI devices exist, and a
 * loaded driver binds every device of its protocol (also when it was loaded before enable, as PCI
 * hot-plug does on real hardware). Interfaces keep their addresses only while they exist.
 */
export function applyDerived(state: SimState, effects: Map<string, string | undefined>): void {
  const netLoaded = state.modules.some((m) => effects.get(m.name) === 'ivshmem-net');
  const wanted = netLoaded ? pciDevices(state, SHMEM_PROTO_VETH).filter(ivshmemNetProbes) : [];
  const wantedNames = new Set(wanted.map((d) => predictableIfname(d.bdf, d.domain)));
  state.interfaces = state.interfaces.filter((i) => i.kind !== 'ivshmem-net' || wantedNames.has(i.name));
  for (const { bdf, domain } of wanted) {
    const name = predictableIfname(bdf, domain);
    if (state.interfaces.some((i) => i.name === name)) continue;
    const byte = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
    const mac = `02:00:00:${byte(domain)}:${byte(bdf >> 8)}:${byte(bdf)}`;
    state.interfaces.push({ name, ifindex: state.nextIfindex++, up: false, addresses: [], kind: 'ivshmem-net', mac });
  }
}

/** The root cell's ivshmem devices Linux shows as PCI devices now (enabled, not yet removed by a disable), of one protocol or all. */
export function pciDevices(state: SimState, protocol?: number): SimIvshmemDevice[] {
  if (!state.jailhouse.enabled) return [];
  return state.jailhouse.ivshmem.filter((d) => d.present && (protocol === undefined || d.protocol === protocol));
}

/**
 * Whether the ivshmem-net driver's probe succeeds on a device (reference/ivshmem.md §7): it
 * refuses an ID above 1, more than 2 peers, no output sections, and a single MSI-X vector (it needs
 * 2, or INTx with none). A refused device gets no interface.
 */
export function ivshmemNetProbes(d: SimIvshmemDevice): boolean {
  const outputSize = BigInt(d.outputs[0]?.size ?? '0');
  return d.id <= 1 && d.peers <= 2 && outputSize > 0n && d.msixVectors !== 1;
}

/** Device nodes under /dev that exist in this state (machine paths without the leading slash). */
export function deviceNodes(state: SimState, effects: Map<string, string | undefined>): string[] {
  const nodes: string[] = [];
  if (state.modules.some((m) => effects.get(m.name) === 'jailhouse')) nodes.push('dev/jailhouse');
  if (state.modules.some((m) => effects.get(m.name) === 'shadow')) {
    pciDevices(state, SHMEM_PROTO_SHADOW).forEach((_, i) => nodes.push(`dev/shadow-process${i}`));
  }
  return nodes;
}
