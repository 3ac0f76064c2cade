/**
 * The name udev's predictable naming gives a PCI network device from its path (ID_NET_NAME_PATH):
 * enp0s13 for 0000:00:0d.0; a non-zero domain is prefixed, in decimal: enP1p0s1 for 0001:00:01.0
 * (as jailhouse-images' virtual PCI host on domain 1 shows it). Firmware slot names (ens15 on x86
 * QEMU) take precedence where the firmware describes the slot; a virtual ivshmem device has none.
 * Shared by what crtosd derives (a link's interface) and what the simulated machine creates.
 */
export function predictableIfname(bdf: number, domain = 0): string {
  const bus = bdf >> 8;
  const dev = (bdf >> 3) & 0x1f;
  const fn = bdf & 7;
  return `en${domain === 0 ? '' : `P${domain}`}p${bus}s${dev}${fn === 0 ? '' : `f${fn}`}`;
}
