/**
 * Network operations with the real `ip`, inside a network namespace this test creates, on a veth
 * pair named like the cRTOS interface (enp0s13), with documentation addresses (192.0.2.0/24) only.
 * Needs root: without it the test says so and passes, except in CI (CI=true runs as root), where
 * not running is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxHost, isHostError, type Host } from '../../src/host/index.js';
import { findOnPath } from '../../src/host/run-tool.js';

const NS = `crtos-test-${process.pid}`;
const realIp = findOnPath('ip', process.env);
const isRoot = process.getuid?.() === 0;
let usable = false;
let host: Host;
let wrapperDir: string;

function ip(...args: string[]): string {
  return execFileSync(realIp as string, args, { encoding: 'utf8' });
}

beforeAll(() => {
  if (!isRoot || realIp === undefined) return;
  try {
    ip('netns', 'add', NS);
    ip('-n', NS, 'link', 'add', 'enp0s13', 'type', 'veth', 'peer', 'name', 'crtos-peer0');
    usable = true;
  } catch (e) {
    console.warn(`network test: cannot create a network namespace: ${(e as Error).message}`);
    return;
  }
  // `ip` on the host's PATH is a wrapper that runs the real ip inside our namespace.
  wrapperDir = mkdtempSync(join(tmpdir(), 'crtos-netns-'));
  writeFileSync(join(wrapperDir, 'ip'), `#!/bin/sh\nexec '${realIp}' -n '${NS}' "$@"\n`, { mode: 0o755 });
  host = createLinuxHost({ env: { ...process.env, PATH: `${wrapperDir}:${process.env.PATH ?? ''}` } });
});

afterAll(() => {
  if (usable) ip('netns', 'del', NS);
  if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
});

function ranOrExplained(): boolean {
  if (usable) return true;
  const why = !isRoot ? 'not running as root' : realIp === undefined ? 'no `ip` on PATH' : 'network namespaces unavailable';
  console.warn(`network test NOT RUN: ${why}`);
  // CI runs as root: there, not running is a failure.
  expect(process.env.CI, `network test must run in CI, but: ${why}`).not.toBe('true');
  return false;
}

describe('LinuxHost network operations with the real ip in a namespace', () => {
  it('sees the interface, adds an address, sets the link up, removes the address', async () => {
    if (!ranOrExplained()) return;
    const before = (await host.interfaces()).find((i) => i.name === 'enp0s13');
    expect(before).toEqual({ name: 'enp0s13', up: false, addresses: [] });
    await host.addAddress('enp0s13', '192.0.2.1/24');
    await host.setLinkUp('enp0s13');
    const after = (await host.interfaces()).find((i) => i.name === 'enp0s13');
    expect(after?.up).toBe(true);
    expect(after?.addresses).toContain('192.0.2.1/24');
    await host.removeAddress('enp0s13', '192.0.2.1/24');
    expect((await host.interfaces()).find((i) => i.name === 'enp0s13')?.addresses.filter((a) => !a.includes(':'))).toEqual([]);
  });

  it('maps the real tool failures to errnos', async () => {
    if (!ranOrExplained()) return;
    await host.addAddress('enp0s13', '192.0.2.2/24');
    const errnoOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (isHostError(e) ? e.errno : String(e)));
    expect(await errnoOf(host.addAddress('enp0s13', '192.0.2.2/24'))).toBe('EEXIST');
    expect(await errnoOf(host.removeAddress('enp0s13', '192.0.2.99/24'))).toBe('EADDRNOTAVAIL');
    expect(await errnoOf(host.setLinkUp('enp0s99'))).toBe('ENODEV');
    await host.removeAddress('enp0s13', '192.0.2.2/24');
  });
});
