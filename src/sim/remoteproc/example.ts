/**
 * The remoteproc example machine: an i.MX8M Mini (four Cortex-A53 for Linux, one Cortex-M4 the
 * imx_rproc driver registers as `imx-rproc`), with a Zephyr firmware to install and the Linux
 * proxy that talks to it over its rpmsg tty. `crtos-sim create DIR --example remoteproc`.
 */
import type { MachineDescription } from '../description.js';
import { zephyrFirmware } from './firmware.js';

/** The firmware as a build leaves it, not yet in the firmware search path. */
export const REMOTEPROC_FIRMWARE_FILE = '/opt/zephyr/zephyr-openamp-rsc-table.elf';
/** The Linux side of the rpmsg tty (a stand-in: see proxy.ts). */
export const REMOTEPROC_PROXY_FILE = '/opt/rpmsg/rpmsg-proxy';
export const REMOTEPROC_PROCESSOR = 'imx-rproc';

/** Merged over the default description: `createSimMachine(dir, REMOTEPROC_DESCRIPTION)`. */
export const REMOTEPROC_DESCRIPTION: Partial<MachineDescription> = {
  arch: 'arm64',
  cpus: 4,
  offlineCpus: [],
  // Mainline remoteproc behaviour (reference: the v5.19 state checks) is what the model follows.
  kernelRelease: '6.6.0-imx8mm-sim',
  modules: [
    { name: 'imx_rproc', installed: true, size: 28672 },
    { name: 'rpmsg_tty', installed: true, size: 16384, effect: 'rpmsg-tty' },
  ],
  // udev loads both: imx_rproc by the DT compatible fsl,imx8mm-cm4, rpmsg_tty by its modalias.
  bootModules: ['imx_rproc', 'rpmsg_tty'],
  readiness: [],
  example: 'remoteproc',
  // imx_rproc: no `fsl,auto-boot`, ops->stop and ops->detach present but detach only for the SCU
  // firmware (i.MX8QM/QXP), so not here; recovery by reloading the firmware.
  remoteproc: { processors: [{ name: REMOTEPROC_PROCESSOR, driver: 'imx_rproc' }] },
};

/** The example's files besides the modules (from the catalog): the firmware and the proxy (`proxyScript`, its wrapper). */
export function remoteprocExampleFiles(proxyScript: string): { path: string; content: string | Uint8Array; mode?: number }[] {
  return [
    { path: REMOTEPROC_FIRMWARE_FILE, content: zephyrFirmware() },
    { path: REMOTEPROC_PROXY_FILE, content: proxyScript, mode: 0o755 },
  ];
}
