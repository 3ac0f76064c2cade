/**
 * Stand-in `ip` (iproute2) for the interfaces the simulated drivers create: `addr show|add|del`
 * and `link show|set … up|down`, plain or `-j` JSON, with iproute2's messages and exit codes
 * (1 for usage and unknown devices, 2 for RTNETLINK errors).
 */
import { strerror } from '../../host/errno.js';
import { readState, updateState } from '../store.js';
import type { SimOperation } from '../faults.js';
import type { SimInterface } from '../state.js';
import { injected, logOperation, type ToolContext } from './context.js';

function matches(word: string | undefined, full: string, min = 1): boolean {
  return word !== undefined && word.length >= min && full.startsWith(word);
}

function finish(ctx: ToolContext, op: SimOperation, code: number, result: string, message?: string): number {
  if (message !== undefined) ctx.err(`${message}\n`);
  logOperation(ctx, { op, args: ctx.args, result, exitCode: code });
  return code;
}

function linkJson(i: SimInterface): Record<string, unknown> {
  const flags = i.kind === 'loopback' ? ['LOOPBACK'] : ['BROADCAST', 'MULTICAST'];
  if (i.up) flags.push('UP', 'LOWER_UP');
  return {
    ifindex: i.ifindex,
    ifname: i.name,
    flags,
    mtu: i.kind === 'loopback' ? 65536 : 16384,
    qdisc: i.kind === 'loopback' ? 'noqueue' : 'pfifo_fast',
    operstate: i.kind === 'loopback' ? 'UNKNOWN' : i.up ? 'UP' : 'DOWN',
    group: 'default',
    txqlen: 1000,
    link_type: i.kind === 'loopback' ? 'loopback' : 'ether',
    address: i.mac,
    broadcast: i.kind === 'loopback' ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff',
  };
}

function addrJson(i: SimInterface): Record<string, unknown> {
  return {
    ...linkJson(i),
    addr_info: i.addresses.map((cidr) => {
      const [local, prefix] = cidr.split('/') as [string, string];
      const v6 = local.includes(':');
      return {
        family: v6 ? 'inet6' : 'inet',
        local,
        prefixlen: Number(prefix),
        scope: i.kind === 'loopback' ? 'host' : 'global',
        ...(v6 ? {} : { label: i.name }),
        valid_life_time: 4294967295,
        preferred_life_time: 4294967295,
      };
    }),
  };
}

function linkText(i: SimInterface): string {
  const j = linkJson(i);
  return `${i.ifindex}: ${i.name}: <${(j.flags as string[]).join(',')}> mtu ${j.mtu as number} qdisc ${j.qdisc as string} state ${j.operstate as string} group default qlen 1000\n    link/${j.link_type as string} ${i.mac} brd ${j.broadcast as string}\n`;
}

function addrText(i: SimInterface): string {
  return (
    linkText(i) +
    i.addresses
      .map((cidr) => `    ${cidr.includes(':') ? 'inet6' : 'inet'} ${cidr} scope ${i.kind === 'loopback' ? 'host' : 'global'} ${i.name}\n       valid_lft forever preferred_lft forever\n`)
      .join('')
  );
}

function validCidr(cidr: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr);
  if (v4) return v4.slice(1, 5).every((o) => Number(o) <= 255) && (v4[5] === undefined || Number(v4[5]) <= 32);
  return /^[0-9a-fA-F:]+(?:\/\d{1,3})?$/.test(cidr) && cidr.includes(':');
}

/** iproute2 stores an address without a prefix as /32 (/128). */
function withPrefix(cidr: string): string {
  return cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`;
}

export function runIp(ctx: ToolContext): number {
  const args = [...ctx.args];
  let json = false;
  while (args[0]?.startsWith('-')) {
    const opt = args.shift() as string;
    if (opt === '-j' || opt === '-json' || opt === '--json') json = true;
    else if (opt === '-4' || opt === '-6' || opt === '-d' || opt === '-p' || opt === '-pretty') continue;
    else return finish(ctx, 'ip addr show', 255, 'usage', `Option "${opt}" is unknown, try "ip -help".`);
  }
  const object = args.shift();
  if (object === undefined) return finish(ctx, 'ip addr show', 255, 'usage', 'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }');
  if (matches(object, 'address')) return address(ctx, args, json);
  if (matches(object, 'link')) return link(ctx, args, json);
  return finish(ctx, 'ip addr show', 255, 'usage', `Object "${object}" is unknown, try "ip help".`);
}

function devArg(args: string[]): string | undefined {
  const i = args.indexOf('dev');
  return i >= 0 ? args[i + 1] : undefined;
}

function show(ctx: ToolContext, op: SimOperation, args: string[], json: boolean, withAddresses: boolean): number {
  const dev = devArg(args) ?? args.find((a) => a !== 'dev');
  const { errno } = injected(ctx, op, dev === undefined ? [] : [dev]);
  if (errno) return finish(ctx, op, 1, errno, `Cannot send dump request: ${strerror(errno)}`);
  const state = readState(ctx.dir);
  let list = [...state.interfaces].sort((a, b) => a.ifindex - b.ifindex);
  if (dev !== undefined) {
    list = list.filter((i) => i.name === dev);
    if (list.length === 0) return finish(ctx, op, 1, 'ENODEV', `Device "${dev}" does not exist.`);
  }
  if (json) ctx.out(`${JSON.stringify(list.map(withAddresses ? addrJson : linkJson))}\n`);
  else ctx.out(list.map(withAddresses ? addrText : linkText).join(''));
  return finish(ctx, op, 0, 'ok');
}

function address(ctx: ToolContext, args: string[], json: boolean): number {
  const cmd = args.shift();
  if (cmd === undefined || matches(cmd, 'show') || matches(cmd, 'list') || cmd === 'lst') return show(ctx, 'ip addr show', args, json, true);
  const add = matches(cmd, 'add');
  const del = matches(cmd, 'delete', 1) && !add;
  if (!add && !del) return finish(ctx, 'ip addr show', 255, 'usage', `Command "${cmd}" is unknown, try "ip address help".`);
  const op: SimOperation = add ? 'ip addr add' : 'ip addr del';
  const cidr = args.find((a, i) => a !== 'dev' && args[i - 1] !== 'dev');
  const dev = devArg(args);
  if (cidr === undefined || !validCidr(cidr)) return finish(ctx, op, 1, 'usage', `Error: inet prefix is expected rather than "${cidr ?? ''}".`);
  if (dev === undefined) return finish(ctx, op, 1, 'usage', 'Not enough information: "dev" argument is required.');
  const present = readState(ctx.dir).interfaces.some((i) => i.name === dev);
  if (!present) return finish(ctx, op, 1, 'ENODEV', `Cannot find device "${dev}"`);
  const { errno } = injected(ctx, op, [dev, cidr]);
  if (errno) return finish(ctx, op, 2, errno, `RTNETLINK answers: ${strerror(errno)}`);
  const address = withPrefix(cidr);
  const outcome = updateState(ctx.dir, (state) => {
    const i = state.interfaces.find((x) => x.name === dev);
    if (!i) return 'ENODEV' as const;
    const host = address.split('/')[0];
    if (add) {
      if (i.addresses.some((a) => a.split('/')[0] === host)) return 'EEXIST' as const;
      i.addresses.push(address);
    } else {
      const index = i.addresses.findIndex((a) => a.split('/')[0] === host && (!cidr.includes('/') || a === address));
      if (index < 0) return 'EADDRNOTAVAIL' as const;
      i.addresses.splice(index, 1);
    }
    return 'ok' as const;
  });
  if (outcome === 'ENODEV') return finish(ctx, op, 1, 'ENODEV', `Cannot find device "${dev}"`);
  // What iproute2 prints with the kernel's extended ack, as on current kernels.
  const family = address.includes(':') ? 'ipv6' : 'ipv4';
  if (outcome === 'EEXIST') return finish(ctx, op, 2, outcome, `Error: ${family}: Address already assigned.`);
  if (outcome === 'EADDRNOTAVAIL') return finish(ctx, op, 2, outcome, `Error: ${family}: Address not found.`);
  return finish(ctx, op, 0, 'ok');
}

function link(ctx: ToolContext, args: string[], json: boolean): number {
  const cmd = args.shift();
  if (cmd === undefined || matches(cmd, 'show') || matches(cmd, 'list')) return show(ctx, 'ip link show', args, json, false);
  if (!matches(cmd, 'set')) return finish(ctx, 'ip link show', 255, 'usage', `Command "${cmd}" is unknown, try "ip link help".`);
  const op: SimOperation = 'ip link set';
  const dev = devArg(args) ?? args[0];
  const wantUp = args.includes('up');
  const wantDown = args.includes('down');
  if (dev === undefined || (!wantUp && !wantDown)) return finish(ctx, op, 1, 'usage', 'Not enough information: "dev" argument is required.');
  if (!readState(ctx.dir).interfaces.some((i) => i.name === dev)) return finish(ctx, op, 1, 'ENODEV', `Cannot find device "${dev}"`);
  const { errno } = injected(ctx, op, [dev]);
  if (errno) return finish(ctx, op, 2, errno, `RTNETLINK answers: ${strerror(errno)}`);
  updateState(ctx.dir, (state) => {
    const i = state.interfaces.find((x) => x.name === dev);
    if (i) i.up = wantUp;
  });
  return finish(ctx, op, 0, 'ok');
}
