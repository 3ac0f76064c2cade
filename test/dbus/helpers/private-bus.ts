/**
 * A real dbus-daemon on a private socket for tests, reachable by other users too (the access
 * tests call it as `nobody` through setpriv). `policy: 'system'` mimics the system bus's
 * default-deny configuration and includes the given policy files, as /usr/share/dbus-1/system.conf
 * does with system.d.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateBus {
  address: string;
  dir: string;
  stop(): Promise<void>;
}

const OPEN_POLICY = `
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>`;

// The default policy of a system bus (dbus-daemon(1)): deny method calls and owning names, allow
// signals, replies and receiving; the bus driver itself stays callable.
const SYSTEM_POLICY = `
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
  </policy>`;

/** `dir`: use this directory (kept on stop) instead of a fresh one, to restart a bus at one address. */
export async function startPrivateBus(opts: { policy?: 'open' | 'system'; include?: string[]; dir?: string } = {}): Promise<PrivateBus> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'crtos-bus-'));
  chmodSync(dir, 0o755);
  const socket = join(dir, 'bus');
  const includes = (opts.include ?? []).map((f) => `  <include>${f}</include>`).join('\n');
  const config = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>${opts.policy === 'system' ? 'system' : 'session'}</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
${opts.policy === 'system' ? SYSTEM_POLICY : OPEN_POLICY}
${includes}
</busconfig>
`;
  const configFile = join(dir, 'bus.conf');
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn('dbus-daemon', ['--config-file', configFile, '--nofork', '--nopidfile', '--print-address=1', '--nosyslog'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}: ${err}`)));
  });
  return {
    // Tests pass the plain path form, which every client here understands.
    address: address.startsWith('unix:path=') ? address.split(',')[0] ?? address : `unix:path=${socket}`,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
