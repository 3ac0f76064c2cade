/**
 * State → the files a real machine shows: its identity (identity.ts), sysfs (Jailhouse, CPUs,
 * modules), /proc/modules and device nodes, formatted exactly as the kernel prints them. Pure: returns path → content
 * (null for a directory that must exist even when empty).
 */
import { formatCpuList, formatCpuMask } from '../host/parse.js';
import { parameterDeclaration, type MachineDescription } from './description.js';
import { renderIdentity } from './identity.js';
import { IVSHMEM_DEVICE_ID, IVSHMEM_VENDOR_ID, pciDeviceName } from './ivshmem.js';
import { deviceNodes, pciDevices, type SimCell, type SimState } from './state.js';
import { memUsed } from './console.js';
import { cpuStatistics, STATISTICS_REFRESH_MS, sumStatistics } from './statistics.js';

/** Path → content; null for a directory; a symbolic link as symlink(target). */
export type RenderedTree = Record<string, string | null>;

const JH = 'sys/devices/jailhouse';

/** No sysfs text starts with a NUL: what follows it is a link target. */
const SYMLINK = '\0symlink:';
export const symlink = (target: string): string => `${SYMLINK}${target}`;
export const symlinkTarget = (content: string): string | undefined => (content.startsWith(SYMLINK) ? content.slice(SYMLINK.length) : undefined);

/**
 * File mode of a rendered file, or undefined for the default: the driver's sysfs attributes are
 * read-only (`-r--r--r--`), its `core` is 0400, `uevent` (writing it replays the event) 0644, as
 * on the real machine.
 */
export function modeOf(rel: string): number | undefined {
  if (!rel.startsWith(`${JH}/`)) return undefined;
  if (rel === `${JH}/uevent`) return 0o644;
  return rel === `${JH}/core` ? 0o400 : 0o444;
}

/**
 * The hypervisor image as `core` shows it: real, it is the whole core (core_size bytes, starting
 * with the header's "JAILHOUS" signature); here only the signature.
 */
const CORE_PLACEHOLDER = 'JAILHOUS';

export function moduleEffects(d: MachineDescription): Map<string, string | undefined> {
  return new Map(d.modules.map((m) => [m.name, m.effect]));
}

export function render(state: SimState, d: MachineDescription, now = Date.now()): RenderedTree {
  const out: RenderedTree = { ...renderIdentity(d) };
  renderCpus(out, state, d);
  renderModules(out, state, d);
  renderPci(out, state);
  const effects = moduleEffects(d);
  if (state.modules.some((m) => effects.get(m.name) === 'jailhouse')) renderJailhouse(out, state, d, now);
  for (const node of deviceNodes(state, effects)) out[node] = '';
  return out;
}

function renderCpus(out: RenderedTree, state: SimState, d: MachineDescription): void {
  const all = [...Array(d.cpus).keys()];
  const base = 'sys/devices/system/cpu';
  out[`${base}/online`] = `${formatCpuList(state.cpusOnline)}\n`;
  out[`${base}/offline`] = `${formatCpuList(all.filter((c) => !state.cpusOnline.includes(c)))}\n`;
  out[`${base}/possible`] = `${formatCpuList(all)}\n`;
  out[`${base}/present`] = `${formatCpuList(all)}\n`;
  for (const cpu of all) {
    // x86 boot CPU 0 cannot be unplugged, so the kernel gives it no `online` file.
    if (cpu === 0 && d.arch === 'x86') out[`${base}/cpu0`] = null;
    else out[`${base}/cpu${cpu}/online`] = state.cpusOnline.includes(cpu) ? '1\n' : '0\n';
  }
}

function renderModules(out: RenderedTree, state: SimState, d: MachineDescription): void {
  // /proc/modules lists the most recently loaded module first.
  const lines = [...state.modules].reverse().map((m) => {
    const deps = m.usedBy.length === 0 ? '-' : `${m.usedBy.join(',')},`;
    return `${m.name} ${m.size} ${m.refcount} ${deps} Live 0x0000000000000000`;
  });
  out['proc/modules'] = lines.map((l) => `${l}\n`).join('');
  for (const m of state.modules) {
    out[`sys/module/${m.name}/initstate`] = 'live\n';
    out[`sys/module/${m.name}/refcnt`] = `${m.refcount}\n`;
    const declared = d.modules.find((e) => e.name === m.name)?.parameters ?? {};
    for (const [k, v] of Object.entries(m.parameters)) {
      // module_param with permission 0: the parameter exists, sysfs has no file for it.
      const p = declared[k];
      if (p !== undefined && parameterDeclaration(p).perm === 0) continue;
      out[`sys/module/${m.name}/parameters/${k}`] = `${v}\n`;
    }
  }
}

/**
 * The root cell's ivshmem devices Linux has as PCI devices, with the IDs and class the hypervisor's
 * emulated config space gives them, in sysfs's format (`0x110a`, class `0xff0001`). The other PCI
 * devices of the machine are not modelled.
 */
function renderPci(out: RenderedTree, state: SimState): void {
  const base = 'sys/bus/pci/devices';
  out[base] = null;
  const id = (n: number) => `0x${n.toString(16).padStart(4, '0')}\n`;
  for (const dev of pciDevices(state)) {
    const dir = `${base}/${pciDeviceName(dev)}`;
    out[`${dir}/vendor`] = id(IVSHMEM_VENDOR_ID);
    out[`${dir}/device`] = id(IVSHMEM_DEVICE_ID);
    out[`${dir}/subsystem_vendor`] = id(IVSHMEM_VENDOR_ID);
    out[`${dir}/subsystem_device`] = id(IVSHMEM_DEVICE_ID);
    out[`${dir}/class`] = `0x${(0xff0000 | dev.protocol).toString(16).padStart(6, '0')}\n`;
  }
}

function renderJailhouse(out: RenderedTree, state: SimState, d: MachineDescription, now: number): void {
  const jh = state.jailhouse;
  // The driver's root device: its uevent file, and the link to the module that registered it.
  out[`${JH}/uevent`] = '';
  out[`${JH}/module`] = symlink('../../module/jailhouse');
  // Created by the first enable, kept after disable, gone with the module.
  if (state.modules.some((m) => m.hypervisorCore)) out[`${JH}/core`] = CORE_PLACEHOLDER;
  const pools = jh.enabled ? jh.pools : undefined;
  out[`${JH}/enabled`] = jh.enabled ? '1\n' : '0\n';
  out[`${JH}/mem_pool_size`] = `${pools?.memPages ?? 0}\n`;
  out[`${JH}/mem_pool_used`] = `${pools ? memUsed(state) : 0}\n`;
  out[`${JH}/remap_pool_size`] = `${pools?.remapPages ?? 0}\n`;
  out[`${JH}/remap_pool_used`] = `${pools?.remapUsed ?? 0}\n`;
  out[`${JH}/console`] = jh.console;
  out[`${JH}/cells`] = null;
  if (!jh.enabled) return;
  for (const cell of [rootCell(state), ...jh.cells]) {
    const dir = `${JH}/cells/${cell.id}`;
    out[`${dir}/name`] = `${cell.name}\n`;
    out[`${dir}/state`] = `${cell.state}\n`;
    out[`${dir}/cpus_assigned`] = `${formatCpuMask(cell.cpus, d.cpus)}\n`;
    out[`${dir}/cpus_assigned_list`] = `${formatCpuList(cell.cpus)}\n`;
    out[`${dir}/cpus_failed`] = `${formatCpuMask(cell.failedCpus, d.cpus)}\n`;
    out[`${dir}/cpus_failed_list`] = `${formatCpuList(cell.failedCpus)}\n`;
    // Counters move with time, but not here: a running cell's runner rewrites its own, the tool
    // server the root cell's (counters.ts). A render keeps their start's figures, so it never
    // rewrites them (a change of the machine costs what it changes, not a file per counter and
    // CPU) and a cell that stopped keeps its last count.
    Object.assign(out, statisticsFiles(cell, d, cell.startedAt ?? now));
  }
}

/** The root cell as the driver shows it under `cells/0`: Linux's CPUs, running since the enable. */
export function rootCell(state: SimState): Pick<SimCell, 'id' | 'name' | 'state' | 'cpus' | 'failedCpus' | 'startedAt'> {
  const jh = state.jailhouse;
  return { id: 0, name: jh.rootName, state: 'running', cpus: jh.rootCpus, failedCpus: [], ...(jh.enabledAt !== undefined ? { startedAt: jh.enabledAt } : {}) };
}

/**
 * A cell's `statistics/` (the sum over its CPUs) and `statistics/cpuN/`, each counter a file, as
 * the driver shows them at `now`; a running cell's runner rewrites them every
 * STATISTICS_REFRESH_MS, so they grow while it runs.
 */
export function statisticsFiles(cell: Pick<SimCell, 'id' | 'cpus' | 'state' | 'startedAt'>, d: MachineDescription, now: number): RenderedTree {
  const out: RenderedTree = {};
  const dir = `${JH}/cells/${cell.id}/statistics`;
  const running = cell.state === 'running' || cell.state === 'running/locked';
  // Whole refresh periods only, so that a render in between rewrites nothing.
  const elapsed = running && cell.startedAt !== undefined ? Math.floor((now - cell.startedAt) / STATISTICS_REFRESH_MS) * STATISTICS_REFRESH_MS : 0;
  const perCpu = cell.cpus.map((cpu) => ({ cpu, counters: cpuStatistics(d.arch, cell.id === 0, running || cell.startedAt !== undefined, elapsed) }));
  for (const [name, value] of Object.entries(sumStatistics(perCpu.map((c) => c.counters)))) out[`${dir}/${name}`] = `${value}\n`;
  for (const { cpu, counters } of perCpu) for (const [name, value] of Object.entries(counters)) out[`${dir}/cpu${cpu}/${name}`] = `${value}\n`;
  return out;
}
