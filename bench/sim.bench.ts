// Simulator timings: creating a machine (goal: well under 1 s, tests create many), one stand-in
// invocation (goal ≤ 5 ms) beside the Node.js tool it replaces, bare `node` and a C tool, and a
// full cRTOS bring-up through the Linux host. Prints figures and ratios; asserts nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLinuxHost } from '../src/host/index.js';
import { createSimMachine, destroySimMachine, memoryTmpdir } from '../src/sim/index.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const base = mkdtempSync(join(memoryTmpdir(), 'crtos-bench-sim-'));
const create: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  await createSimMachine(join(base, `m${i}`));
  create.push(performance.now() - t);
}
const createMs = median(create);
console.log(`create machine: median ${createMs.toFixed(1)} ms (goal 1000 ms, ratio ${(createMs / 1000).toFixed(3)})`);

// One stand-in invocation, side by side with what it replaces and what it should cost: the
// wrapper through the C client to the machine's tool server (warm: the server is up), the same
// wrapper on the Node.js tools (CRTOS_SIM_CLIENT=node at creation), bare `node -e 0` and a C tool.
const m = join(base, 'm0');
const viaNode = join(base, 'node-tools');
process.env.CRTOS_SIM_CLIENT = 'node';
await createSimMachine(viaNode);
delete process.env.CRTOS_SIM_CLIENT;
const clientBuilt = readFileSync(join(m, 'bin', 'jailhouse'), 'utf8').includes('crtos-sim-client');
const timed = (file: string, args: string[]) => {
  const t = performance.now();
  execFileSync(file, args);
  return performance.now() - t;
};
const rows: [string, string, string[]][] = [
  [clientBuilt ? 'stand-in jailhouse cell list (C client + tool server)' : 'stand-in jailhouse cell list (no C client built: Node.js)', join(m, 'bin', 'jailhouse'), ['cell', 'list']],
  ['stand-in jailhouse cell list (Node.js tool, before)', join(viaNode, 'bin', 'jailhouse'), ['cell', 'list']],
  ['bare node -e 0', process.execPath, ['-e', '0']],
  ['/bin/true (a C tool)', '/bin/true', []],
];
timed(join(m, 'bin', 'jailhouse'), ['cell', 'list']); // starts the tool server
const samples: number[][] = rows.map(() => []);
for (let i = 0; i < 31; i++) rows.forEach(([, file, args], r) => samples[r]!.push(timed(file, args)));
const standInMs = median(samples[0]!);
for (const [r, [label]] of rows.entries()) console.log(`${label.padEnd(56)} median ${median(samples[r]!).toFixed(2)} ms`);
console.log(`stand-in invocation: median ${standInMs.toFixed(2)} ms (goal 5 ms, ratio ${(standInMs / 5).toFixed(2)}); ${(median(samples[1]!) / standInMs).toFixed(1)}x faster than the Node.js tool, ${(standInMs / median(samples[3]!)).toFixed(1)}x /bin/true`);

const machine = await createSimMachine(join(base, 'bringup'));
const host = createLinuxHost({ root: machine.dir, env: machine.env });
const t = performance.now();
await host.loadModule({ name: 'jailhouse' });
await host.enableJailhouse('/etc/jailhouse/sysconfig.cell');
await host.createCell('/etc/jailhouse/nuttx.cell');
await host.loadCell('nuttx', [{ file: '/opt/crtos/nuttx.bin' }]);
await host.startCell('nuttx');
await Promise.all([host.loadModule({ path: '/opt/crtos/drivers/shadow.ko' }), host.loadModule({ path: '/opt/crtos/drivers/ivshmem-net.ko' })]);
await host.addAddress('enp0s13', '172.16.0.1/24');
await host.setLinkUp('enp0s13');
const bringUp = performance.now() - t;
console.log(`cRTOS bring-up through LinuxHost (9 tool runs): ${bringUp.toFixed(0)} ms (${(bringUp / 9 / standInMs).toFixed(2)} x one stand-in per step)`);

await destroySimMachine(machine.dir);
await destroySimMachine(viaNode);
for (let i = 0; i < 20; i++) await destroySimMachine(join(base, `m${i}`));
rmSync(base, { recursive: true, force: true });
