// Simulator timings: creating a machine (goal: well under 1 s, tests create many), one stand-in
// invocation against bare `node` start-up (the floor), and a full cRTOS bring-up through the
// Linux host. Prints figures and ratios; asserts nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxHost } from '../src/host/index.js';
import { createSimMachine, destroySimMachine } from '../src/sim/index.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const base = mkdtempSync(join(tmpdir(), 'crtos-bench-sim-'));
const create: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  await createSimMachine(join(base, `m${i}`));
  create.push(performance.now() - t);
}
const createMs = median(create);
console.log(`create machine: median ${createMs.toFixed(1)} ms (goal 1000 ms, ratio ${(createMs / 1000).toFixed(3)})`);

const m = join(base, 'm0');
const tool = join(m, 'bin', 'jailhouse');
const floor: number[] = [];
const standIn: number[] = [];
for (let i = 0; i < 15; i++) {
  let t = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  floor.push(performance.now() - t);
  t = performance.now();
  execFileSync(tool, ['cell', 'list']);
  standIn.push(performance.now() - t);
}
const floorMs = median(floor);
const standInMs = median(standIn);
console.log(`stand-in jailhouse cell list: median ${standInMs.toFixed(1)} ms; bare node ${floorMs.toFixed(1)} ms (ratio ${(standInMs / floorMs).toFixed(2)})`);

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
for (let i = 0; i < 20; i++) await destroySimMachine(join(base, `m${i}`));
rmSync(base, { recursive: true, force: true });
