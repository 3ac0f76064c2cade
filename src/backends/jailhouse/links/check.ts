/**
 * What is wrong with one link on its own, before it is placed: what the hypervisor would refuse at
 * `jailhouse enable` or `cell create` (too many peers or vectors), what it accepts but cannot work
 * (x86 without MSI-X has no interrupts; an ivshmem-net device the Linux driver will not probe), and
 * sizes or guest addresses that are not page multiples.
 *
 * Sizes that are not page multiples are rounded up (a warning): the configurations must carry page
 * multiples, and the rounded size is what every peer and every fact uses, so nothing disagrees.
 * Guest addresses are not rounded (an error): moving a mapping would break the guest that expects it.
 */
import { formatHex, formatSize } from '../../../jailhouse/values.js';
import { MEMORY_FLAGS } from '../../../jailhouse/flags.js';
import { IVSHMEM_MAX_MSIX_VECTORS, IVSHMEM_MAX_PEERS, PAGE_SIZE, SHMEM_PROTO_VETH, msixVectorsOf } from './defaults.js';
import { roundUpToPage } from './footprint.js';
import { finding, LINK_FIELDS, peerLabel, type IvshmemLinkRequest, type LinkFinding, type LinkTarget } from './request.js';

/** Flags that would make a shared section something else to the hypervisor. */
const FOREIGN_FLAGS = new Set(['COMM_REGION', 'IO', 'IO_UNALIGNED', 'IO_8', 'IO_16', 'IO_32', 'IO_64']);

function checkPeers(link: IvshmemLinkRequest, out: LinkFinding[]): void {
  const n = link.peers.length;
  if (n < 2) {
    out.push(finding(link.id, LINK_FIELDS.peers, 'CELLCFG_LINK_PEERS', `the link has ${n} peer${n === 1 ? '' : 's'}; a channel needs at least 2`, 'list the root cell and/or the cells that share this link'));
  } else if (n > IVSHMEM_MAX_PEERS) {
    out.push(finding(link.id, LINK_FIELDS.peers, 'CELLCFG_LINK_PEERS', `the link has ${n} peers; the hypervisor allows at most ${IVSHMEM_MAX_PEERS} (peer ids 0..${IVSHMEM_MAX_PEERS - 1})`, 'split the link, or drop peers'));
  }
  link.peers.forEach((peer, i) => {
    const first = link.peers.findIndex((p) => p.cell === peer.cell);
    if (first !== i) {
      out.push(finding(link.id, LINK_FIELDS.peer(i), 'CELLCFG_LINK_PEERS', `peer ${i} is ${peerLabel(peer)}, which is already peer ${first}`, 'a cell can be a peer of a link only once; the second device would fail with EBUSY'));
    }
  });
}

function checkVectors(link: IvshmemLinkRequest, target: Pick<LinkTarget, 'arch'>, out: LinkFinding[]): void {
  const vectors = msixVectorsOf(link, target.arch);
  if (!Number.isInteger(vectors) || vectors < 0 || vectors > IVSHMEM_MAX_MSIX_VECTORS) {
    out.push(finding(link.id, LINK_FIELDS.msixVectors, 'CELLCFG_LINK_VECTORS', `${vectors} MSI-X vectors: the hypervisor allows 0..${IVSHMEM_MAX_MSIX_VECTORS}`, `ask for at most ${IVSHMEM_MAX_MSIX_VECTORS}`));
  } else if (vectors === 0 && target.arch === 'x86') {
    out.push(finding(link.id, LINK_FIELDS.msixVectors, 'CELLCFG_LINK_VECTORS', 'no MSI-X vectors on x86, where ivshmem has no INTx: the peers would get no interrupts', 'ask for at least 1 vector (ivshmem-net: 2), or leave msixVectors out for the default'));
  }
  if (link.protocol === SHMEM_PROTO_VETH && vectors === 1) {
    out.push(finding(link.id, LINK_FIELDS.msixVectors, 'CELLCFG_LINK_VETH', "1 MSI-X vector for an ivshmem-net link: the Linux driver's probe fails with EBUSY (it needs exactly 2 with MSI-X)", target.arch === 'x86' ? 'ask for 2 vectors' : 'ask for 2 vectors, or 0 for INTx'));
  }
}

function checkVeth(link: IvshmemLinkRequest, out: LinkFinding[]): void {
  if (link.protocol !== SHMEM_PROTO_VETH) return;
  if (link.peers.length !== 2) {
    out.push(finding(link.id, LINK_FIELDS.peers, 'CELLCFG_LINK_VETH', `an ivshmem-net link with ${link.peers.length} peers: the Linux driver's probe fails for more than 2 peers, and a channel needs 2`, 'an ivshmem-net link connects exactly 2 peers; add one link per pair'));
  }
  if (link.outputSize === 0n) {
    out.push(finding(link.id, LINK_FIELDS.output, 'CELLCFG_LINK_VETH', 'an ivshmem-net link without output sections: the Linux driver\'s probe fails ("Missing input/output sections")', 'give each peer an output section (upstream uses 508K in a 1 MiB window)'));
  }
}

function checkSizes(link: IvshmemLinkRequest, out: LinkFinding[]): void {
  if (link.stateSize <= 0n) {
    out.push(finding(link.id, LINK_FIELDS.state, 'CELLCFG_LINK_SIZE', 'the state table has size 0; the hypervisor maps it and the peers exchange their state in it', 'give the state table one page (4K)'));
  }
  const sections = [
    ['state table', link.stateSize, LINK_FIELDS.state],
    ['r/w section', link.rwSize, LINK_FIELDS.rw],
    ['output section', link.outputSize, LINK_FIELDS.output],
  ] as const;
  for (const [name, size, field] of sections) {
    if (size < 0n) {
      out.push(finding(link.id, field, 'CELLCFG_LINK_SIZE', `the ${name} has a negative size (${size})`, 'give a size of 0 or more'));
    } else if (size % PAGE_SIZE !== 0n) {
      out.push(finding(link.id, field, 'CELLCFG_LINK_SIZE', `the ${name} size ${formatHex(size)} is not a multiple of the 4 KiB page; it is rounded up to ${formatSize(roundUpToPage(size))}`, `write ${formatSize(roundUpToPage(size))} to say so`, 'warning'));
    }
  }
}

function checkFlags(link: IvshmemLinkRequest, names: readonly string[], field: readonly (string | number)[], out: LinkFinding[]): void {
  for (const name of names) {
    if (!MEMORY_FLAGS.some(([known]) => known === name)) {
      out.push(finding(link.id, field, 'CELLCFG_LINK_MAPPING', `'${name}' is not a memory flag`, `memory flags: ${MEMORY_FLAGS.map(([n]) => n).join(', ')}`));
    } else if (FOREIGN_FLAGS.has(name)) {
      out.push(finding(link.id, field, 'CELLCFG_LINK_MAPPING', `${name} on a shared-memory section would make the hypervisor treat it as ${name === 'COMM_REGION' ? 'the communication region' : 'device memory'}`, `drop ${name}`));
    }
  }
}

function checkMappings(link: IvshmemLinkRequest, out: LinkFinding[]): void {
  checkFlags(link, link.rwFlags, LINK_FIELDS.rwFlags, out);
  link.peers.forEach((peer, i) => {
    for (const [at, field] of [
      [peer.virtStart, LINK_FIELDS.peerVirt(i)],
      [peer.rw?.virtStart, LINK_FIELDS.peerRwVirt(i)],
    ] as const) {
      if (at !== undefined && (at < 0n || at % PAGE_SIZE !== 0n)) {
        out.push(finding(link.id, field, 'CELLCFG_LINK_MAPPING', `guest address ${formatHex(at)} of ${peerLabel(peer)} is not a multiple of the 4 KiB page`, 'the hypervisor refuses unaligned regions; use a page-aligned guest address'));
      }
    }
    checkFlags(link, peer.rw?.flags ?? [], LINK_FIELDS.peerRwFlags(i), out);
    if (peer.rw !== undefined && link.rwSize === 0n) {
      out.push(finding(link.id, LINK_FIELDS.peerRw(i), 'CELLCFG_LINK_MAPPING', `${peerLabel(peer)} maps the r/w section its own way, but the link has no r/w section`, 'give the link an r/w size, or drop the mapping', 'warning'));
    }
  });
}

function checkValues(link: IvshmemLinkRequest, out: LinkFinding[]): void {
  if (!Number.isInteger(link.protocol) || link.protocol < 0 || link.protocol > 0xffff) {
    out.push(finding(link.id, LINK_FIELDS.protocol, 'CELLCFG_LINK_VALUE', `protocol ${link.protocol} does not fit the 16-bit protocol field`, 'use veth (1), undefined (0), a custom protocol 0x4000..0x7fff, or a virtio one 0x8000..0xffff'));
  }
  if (link.bdf !== undefined && (!Number.isInteger(link.bdf) || link.bdf < 0 || link.bdf > 0xffff)) {
    out.push(finding(link.id, LINK_FIELDS.pci, 'CELLCFG_LINK_VALUE', `PCI address ${link.bdf} is not a bus:device.function (0..0xffff)`, 'write it as 00:0e.0'));
  }
  if (link.barMask !== undefined && (link.barMask.length !== 6 || link.barMask.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff))) {
    out.push(finding(link.id, LINK_FIELDS.barMask, 'CELLCFG_LINK_VALUE', `barMask [${link.barMask.map((w) => formatHex(w)).join(', ')}] is not 6 unsigned 32-bit words`, 'leave barMask out for the default of the revision and vectors'));
  }
}

/** Every finding about `link` on its own, for `target`'s architecture; empty when it is fine. */
export function checkLinkRequest(link: IvshmemLinkRequest, target: Pick<LinkTarget, 'arch'>): LinkFinding[] {
  const out: LinkFinding[] = [];
  checkPeers(link, out);
  checkVectors(link, target, out);
  checkVeth(link, out);
  checkSizes(link, out);
  checkMappings(link, out);
  checkValues(link, out);
  return out;
}
