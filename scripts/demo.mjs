// `npm run demo`: the cRTOS example (units/crtos) brought up by crtosd on a simulated machine,
// with a private D-Bus bus, then `crtosctl status`. Nothing here touches the real machine or
// any network beyond 127.0.0.0/8: the example's 172.16.0.x addresses are overridden by
// drop-ins that point readiness at the simulated cell's loopback endpoint.
//
//   npm run demo               bring it up, print the status, take it down again
//   npm run demo -- --keep     leave crtosd running and print how to talk to it and stop it
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The built commands, where package.json's `bin` has them (crtosctl's is CommonJS, crtosctl.cjs).
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dist = (name) => join(root, bin[name]);
const keep = process.argv.includes('--keep');
const say = (text) => process.stdout.write(process.stdout.isTTY ? `\x1b[1m==> ${text}\x1b[0m\n` : `==> ${text}\n`);

function fail(message) {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

for (const tool of ['dbus-daemon']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`${tool} is needed for the private bus (apt install dbus)`);
}

const dir = mkdtempSync(join(tmpdir(), 'crtos-demo-'));
const machineDir = join(dir, 'machine');
const dropins = join(dir, 'dropins');
const stateDir = join(dir, 'run');
const busSocket = join(dir, 'bus');
const busAddress = `unix:path=${busSocket}`;
const children = [];

function cleanup() {
  for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGTERM');
}

// 1. The simulated machine (sysfs, procfs, /dev, stand-in jailhouse, modprobe, ip, chrt, loader).
say(`simulated machine in ${machineDir}`);
const created = spawnSync(process.execPath, [dist('crtos-sim'), 'create', machineDir], { encoding: 'utf8' });
if (created.status !== 0) fail(`crtos-sim create failed:\n${created.stderr}`);
const machine = JSON.parse(readFileSync(join(machineDir, 'machine.json'), 'utf8'));
const endpoint = (machine.readiness ?? []).find((r) => r.cell === 'nuttx');
if (!endpoint) fail('the simulated machine has no readiness endpoint for the nuttx cell');
const simPath = /PATH='([^']*)'/.exec(spawnSync(process.execPath, [dist('crtos-sim'), 'env', machineDir], { encoding: 'utf8' }).stdout)?.[1];
if (!simPath) fail('crtos-sim env printed no PATH');
const env = { ...process.env, PATH: simPath };

// 2. Drop-ins: loopback instead of the real cRTOS link addresses.
mkdirSync(join(dropins, 'nuttx.cell.d'), { recursive: true });
mkdirSync(join(dropins, 'crtos-link.network.d'), { recursive: true });
writeFileSync(
  join(dropins, 'nuttx.cell.d', '50-loopback.yaml'),
  `# The simulated NuttX answers on loopback, not on 172.16.0.2.\nready: { tcp: "${endpoint.host}:${endpoint.port}", timeout: 10s }\n`,
);
writeFileSync(join(dropins, 'crtos-link.network.d', '50-loopback.yaml'), '# A loopback-range address on the simulated interface.\naddress: 127.16.0.1/24\n');
say(`drop-ins in ${dropins} point readiness at ${endpoint.host}:${endpoint.port}`);

// 3. A private bus.
const busConfig = join(dir, 'bus.conf');
writeFileSync(
  busConfig,
  `<busconfig><type>session</type><listen>${busAddress}</listen><auth>EXTERNAL</auth>` +
    '<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>\n',
);
const bus = spawn('dbus-daemon', ['--config-file', busConfig, '--nofork', '--nopidfile', '--nosyslog'], { stdio: 'ignore', detached: keep });
children.push(bus);
for (let i = 0; !existsSync(busSocket); i++) {
  if (bus.exitCode !== null || i > 100) fail('dbus-daemon did not start');
  await new Promise((r) => setTimeout(r, 50));
}
say(`private bus at ${busAddress}`);

// 4. crtosd.
// --stop-on-exit: when the demo ends (or you kill crtosd), the cells and loaders go with it.
const crtosdArgs = [dist('crtosd'), '--root', machineDir, '--units', join(root, 'units/crtos'), '--units', dropins, '--bus', busAddress, '--state-dir', stateDir, '--stop-on-exit'];
// Its log goes to a file, not a pipe: with --keep it outlives this script.
const logFile = join(dir, 'crtosd.log');
const logFd = openSync(logFile, 'a');
const daemon = spawn(process.execPath, crtosdArgs, { env, stdio: ['ignore', logFd, logFd], detached: keep });
children.push(daemon);
const daemonLog = () => readFileSync(logFile, 'utf8');
say(`crtosd started (log: ${logFile}); waiting for the example to come up`);

const ctl = (...args) => spawnSync(process.execPath, [dist('crtosctl'), '--bus', busAddress, ...args], { encoding: 'utf8' });
const want = ['jailhouse.hypervisor', 'nuttx.cell', 'hello.loader'];
const deadline = Date.now() + 60_000;
for (;;) {
  if (daemon.exitCode !== null) {
    cleanup();
    fail(`crtosd exited with ${daemon.exitCode}:\n${daemonLog()}`);
  }
  const r = ctl('is-active', '--json', ...want);
  if (r.status === 0 || r.status === 3) {
    const states = JSON.parse(r.stdout);
    if (states.every((s) => s.active === 'active')) break;
    if (states.some((s) => s.active === 'failed')) break;
  }
  if (Date.now() > deadline) {
    cleanup();
    fail(`the example did not come up within 60 s; crtosd log:\n${daemonLog()}`);
  }
  await new Promise((r) => setTimeout(r, 200));
}

say('crtosctl status');
const status = spawnSync(process.execPath, [dist('crtosctl'), '--bus', busAddress, 'status'], { stdio: 'inherit' });
say('crtosctl status nuttx.cell');
spawnSync(process.execPath, [dist('crtosctl'), '--bus', busAddress, 'status', 'nuttx.cell'], { stdio: 'inherit' });

if (keep) {
  bus.unref();
  daemon.unref();
  const ctlCmd = `node ${dist('crtosctl')} --bus ${busAddress}`;
  process.stdout.write(
    `\ncrtosd keeps running (pid ${daemon.pid}, bus pid ${bus.pid}). Try:\n` +
      `  export CRTOS_BUS_ADDRESS=${busAddress}\n` +
      `  ${ctlCmd} list-units\n` +
      `  ${ctlCmd} restart hello.loader\n` +
      `  busctl --address=${busAddress} tree org.crtos.Manager1\n` +
      `Stop it (crtosd takes the cells and loaders down first) with:\n  kill ${daemon.pid}; sleep 2; kill ${bus.pid}; rm -rf ${dir}\n`,
  );
  process.exit(status.status === 0 ? 0 : 1);
}

say('taking the demo down (run with -- --keep to leave it running)');
await new Promise((resolve) => {
  daemon.once('exit', resolve);
  daemon.kill('SIGTERM');
});
cleanup();
rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
process.exit(status.status === 0 ? 0 : 1);
