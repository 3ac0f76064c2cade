/** Problem codes of this area; every code starts with CELLCFG_. Joined in ../codes.ts. */
export const cellConfigCodes = {
  CELLCFG_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },

  // Decoding a binary .cell file
  CELLCFG_TRUNCATED: { summary: 'The file ends before a structure it declares is complete' },
  CELLCFG_BAD_SIGNATURE: { summary: 'The file does not start with a Jailhouse system or cell signature' },
  CELLCFG_UNKNOWN_REVISION: { summary: 'The configuration revision is not one crtosd reads (12, 13, 14)' },
  CELLCFG_COUNTS_PAST_END: { summary: 'The element counts in a cell header describe more bytes than the file holds' },
  CELLCFG_BAD_ARCH: { summary: 'The architecture byte is not 0 (x86), 1 (arm) or 2 (arm64)' },
  CELLCFG_BAD_VALUE: { summary: 'A field holds a value the format does not define (e.g. an unknown PCI device type)' },
  CELLCFG_REV13_EARLY: { summary: 'A revision-13 system file uses the short-lived early layout (root cell at 354), which is not supported' },
  CELLCFG_ARCH_UNKNOWN: { summary: 'A revision-12/13 configuration carries no architecture byte, and what it says does not tell which one it is for' },
  CELLCFG_WRONG_KIND: { summary: 'A system configuration was given where a cell configuration was expected, or the reverse' },

  // Descriptions (YAML) and encoding
  CELLCFG_DESCRIPTION: { summary: 'A cell or system description does not match the schema' },
  CELLCFG_ENCODE: { summary: 'A configuration holds a value that does not fit its binary field' },

  // `cell-config check`: what upstream `jailhouse config check` also finds
  CELLCFG_OVERLAP_IN_CELL: { summary: 'Two memory regions of one cell overlap physically or virtually' },
  CELLCFG_OVERLAP_HYPERVISOR: { summary: 'A memory region overlaps the hypervisor memory' },
  CELLCFG_OVERLAP_MMCONFIG: { summary: 'A memory region overlaps the PCI MMCONFIG window, which the hypervisor must intercept' },
  CELLCFG_OVERLAP_IOMMU: { summary: 'A memory region overlaps an IOMMU unit, which the hypervisor must intercept' },
  CELLCFG_OVERLAP_IRQCHIP: { summary: 'A memory region overlaps an interrupt controller (APIC, IOAPIC, GIC), which the hypervisor must intercept' },
  CELLCFG_UNKNOWN_GIC: { summary: 'The system names a GIC version other than 2 or 3, so its registers cannot be checked' },

  // `cell-config check`: what nothing upstream checks
  CELLCFG_ARCH_MISMATCH: { summary: 'Configurations of one set are for different architectures' },
  CELLCFG_REVISION_MISMATCH: { summary: 'Configurations of one set have different revisions; one hypervisor build reads only one' },
  CELLCFG_CPU_SHARED: { summary: 'Two non-root cells claim the same CPU' },
  CELLCFG_NO_CPU: { summary: 'A non-root cell has no CPU, so it can never run' },
  CELLCFG_CPU_NOT_IN_ROOT: { summary: 'A non-root cell claims a CPU the root cell does not own' },
  CELLCFG_ROOT_STARVED: { summary: 'No CPU is left for the root cell once all non-root cells run' },
  CELLCFG_CPU0_GIVEN_AWAY: { summary: 'On x86, CPU 0 must stay with the root cell' },
  CELLCFG_MEMORY_SHARED: { summary: 'Two non-root cells share physical memory without ROOTSHARED' },
  CELLCFG_DUPLICATE_NAME: { summary: 'Two cells of one set have the same name' },
  CELLCFG_IVSHMEM_REGIONS: { summary: 'An ivshmem device points at memory regions past the end of its cell' },
  CELLCFG_IVSHMEM_PEERS: { summary: 'The peers of one ivshmem link disagree on the number of peers, or have too many' },
  CELLCFG_IVSHMEM_DEV_ID: { summary: 'Two peers of one ivshmem link use the same device id, or an id is out of range' },
  CELLCFG_IVSHMEM_BDF: { summary: 'Peers share ivshmem memory but use different PCI addresses (bdf), so they are not one link' },
  CELLCFG_IVSHMEM_ADDRESS: { summary: 'The peers of one ivshmem link map different physical memory for the same section' },
  CELLCFG_IVSHMEM_OUTPUT_WRITE: { summary: 'An ivshmem output section is writable by a peer other than its owner, or not by its owner' },
  CELLCFG_IVSHMEM_LONELY: { summary: 'An ivshmem link has only one peer in this configuration set' },
  CELLCFG_IVSHMEM_VECTORS: { summary: 'An ivshmem device asks for more MSI-X vectors than the hypervisor gives one (16)' },
  CELLCFG_RAM_OUTSIDE_SYSTEM: { summary: "A non-root cell's memory lies outside every memory region of the root cell, so it is not the system's RAM" },
  CELLCFG_NOT_PAGE_ALIGNED: { summary: 'A memory region that is not I/O starts or ends off a 4 KiB page boundary, so the hypervisor cannot map it as memory' },
  CELLCFG_PCI_TYPE_UNKNOWN: { summary: 'A PCI device type other than 1 (device), 2 (bridge) or 3 (ivshmem); the hypervisor treats it as a device' },
  CELLCFG_IRQCHIP_PIN_BASE: { summary: 'An irqchip pin_base the hypervisor refuses (x86: must be 0; arm: a multiple of 32)' },
  CELLCFG_TOO_BIG: { summary: 'A cell configuration larger than the 64 KiB the hypervisor maps to read it' },
  CELLCFG_IMAGE_FIT: { summary: 'An image does not fit a WRITE|LOADABLE memory region of its cell at its load address' },
  CELLCFG_IMAGE_CELL: { summary: 'An --image option names a cell that is not in the configuration set' },

  // Links (ivshmem channels) placed and generated into the configurations
  CELLCFG_LINK_PEERS: { summary: 'A link has fewer than 2 peers, more than the 12 the hypervisor allows, or lists a cell twice' },
  CELLCFG_LINK_VECTORS: { summary: 'A link asks for more than 16 MSI-X vectors, or for none on x86, where ivshmem has no INTx' },
  CELLCFG_LINK_VETH: { summary: "An ivshmem-net (veth) link the Linux driver's probe refuses: not 2 peers, no output sections, or 1 MSI-X vector" },
  CELLCFG_LINK_SIZE: { summary: 'A link section has a size the hypervisor cannot map: a state table of 0, or a size that is not a page multiple (rounded up, a warning)' },
  CELLCFG_LINK_MAPPING: { summary: "A link peer's guest address is not page aligned, or a flag of a link section is unknown or makes it something other than shared memory" },
  CELLCFG_LINK_VALUE: { summary: 'A link field does not fit its binary field (protocol, PCI address, bar mask)' },
  CELLCFG_LINK_ADDRESS: { summary: "A link's pinned address is not page aligned, lies outside the link pool, or overlaps another link" },
  CELLCFG_LINK_POOL_FULL: { summary: 'A link does not fit the free memory left in the link pool' },
  CELLCFG_LINK_PCI_TAKEN: { summary: "A link's pinned PCI address is pinned by another link too, or is the address of a device in a peer's configuration" },
  CELLCFG_LINK_PCI_FULL: { summary: 'No free device slot is left on PCI bus 0 for a link' },
} as const;
