// packaging/systemd/crtosd.service's sandbox as systemd reads it (systemd-analyze security,
// offline): exposure 5.0 or less, what crtosd's job needs left to it, and every measure the file
// does not take explained in a comment.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../dbus/helpers/run.js';

const SERVICE = fileURLToPath(new URL('../../packaging/systemd/crtosd.service', import.meta.url));

/** One line of `systemd-analyze security --json=short`: set is true when the measure is taken. */
interface Measure {
  set: boolean;
  name: string;
  exposure: string | null;
}

let measures: Map<string, Measure>;

beforeAll(async () => {
  const r = await run('systemd-analyze', ['security', '--offline=true', '--json=short', SERVICE]);
  expect(r.code).toBe(0);
  measures = new Map((JSON.parse(r.stdout) as Measure[]).map((m) => [m.name, m]));
});

const taken = (name: string): boolean => {
  const m = measures.get(name);
  if (!m) throw new Error(`systemd-analyze security reports no ${name}`);
  return m.set;
};

/** "AF_(INET|INET6)" → AF_INET, AF_INET6. */
const alternatives = (word: string): string[] => {
  const m = /^(.*)\((.*)\)(.*)$/.exec(word);
  return m ? m[2]!.split('|').map((alt) => `${m[1]}${alt}${m[3]}`) : [word];
};

describe('the packaged service', () => {
  it('has an exposure of 5.0 or less in systemd-analyze security', async () => {
    const r = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', SERVICE]);
    const level = /Overall exposure level for crtosd\.service: (\d+\.\d)/.exec(r.stdout);
    expect(level, r.stdout + r.stderr).not.toBeNull();
    expect(Number(level![1])).toBeLessThanOrEqual(5.0);
    // The same bound as systemd-analyze's own check (tenths of the exposure): exit 0 at or below it.
    expect((await run('systemd-analyze', ['security', '--offline=true', '--threshold=50', SERVICE])).code).toBe(0);
  });

  it("keeps what crtosd's job needs: modules, sysfs, devices, real-time scheduling, interfaces, the bus", () => {
    for (const cap of ['CAP_SYS_MODULE', 'CAP_SYS_ADMIN', 'CAP_SYS_RAWIO', 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE']) {
      expect(taken(`CapabilityBoundingSet=~${cap}`), cap).toBe(false);
    }
    expect(taken('CapabilityBoundingSet=~CAP_SYS_(NICE|RESOURCE)')).toBe(false);
    expect(taken('CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)')).toBe(false);
    for (const name of ['ProtectKernelModules=', 'ProtectKernelTunables=', 'PrivateDevices=', 'RestrictRealtime=', 'PrivateNetwork=', 'MemoryDenyWriteExecute=']) {
      expect(taken(name), name).toBe(false);
    }
    for (const name of ['SystemCallFilter=~@module', 'SystemCallFilter=~@resources', 'RestrictAddressFamilies=~AF_NETLINK', 'RestrictAddressFamilies=~AF_UNIX', 'RestrictAddressFamilies=~AF_(INET|INET6)']) {
      expect(taken(name), name).toBe(false);
    }
  });

  it('takes the measures crtosd can live with', () => {
    for (const name of [
      'NoNewPrivileges=',
      'CapabilityBoundingSet=~CAP_SYS_TIME',
      'CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)',
      'CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)',
      'ProtectKernelLogs=',
      'ProtectControlGroups=',
      'RestrictNamespaces=~user',
      'RestrictSUIDSGID=',
      'SystemCallArchitectures=',
      'SystemCallFilter=~@mount',
      'SystemCallFilter=~@reboot',
      'RestrictAddressFamilies=~AF_PACKET',
      'ProtectProc=',
    ]) {
      expect(taken(name), name).toBe(true);
    }
  });

  it('explains in a comment every measure it does not take', () => {
    const text = readFileSync(SERVICE, 'utf8');
    const comments = text
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');
    const kept = /^CapabilityBoundingSet=(.*)$/m.exec(text)![1]!.split(/\s+/);
    const missing: string[] = [];
    for (const m of measures.values()) {
      if (m.set || m.exposure === null) continue;
      // A capability kept: each one the bounding set lists is explained. Otherwise the thing
      // allowed (@module, AF_NETLINK) or the directive's own name (ProtectClock=, User=).
      const words = m.name.startsWith('CapabilityBoundingSet=~')
        ? kept.filter((cap) => new RegExp(`^${m.name.slice('CapabilityBoundingSet=~'.length).replace('*', '.*')}$`).test(cap))
        : alternatives(m.name.includes('=~') ? m.name.split('=~')[1]! : m.name.split('/')[0]!);
      for (const w of words) if (!comments.includes(w)) missing.push(`${m.name} (${w})`);
    }
    expect(missing).toEqual([]);
  });
});
