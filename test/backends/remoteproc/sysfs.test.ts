/** Reading /sys/class/remoteproc: processors in index order by name, the class missing, a processor removed while read. */
import { describe, expect, it } from 'vitest';
import type { AttributeRead, Host } from '../../../src/host/host.js';
import { HostError } from '../../../src/host/host-error.js';
import { processorDirs, readRemoteproc } from '../../../src/backends/remoteproc/sysfs.js';
import { phaseOf, remoteprocTransition, toBackendStatus } from '../../../src/backends/remoteproc/backend.js';

/** A host whose sysfs is the given files (machine path → text); a directory listing from their paths. */
function sysfs(files: Record<string, string>): Host {
  return {
    readDir: async (dir: string) => {
      const names = Object.keys(files).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1).split('/')[0]!);
      if (names.length === 0) throw new HostError({ code: 'HOST_READ_FAILED', op: 'readDir', errno: 'ENOENT', message: 'none' });
      return [...new Set(names)].sort();
    },
    readAttributes: async (paths: readonly string[]) => paths.map((p): AttributeRead => (p in files ? { text: files[p]! } : { errno: 'ENOENT', error: `${p}: ENOENT` })),
  } as unknown as Host;
}

const rproc = (n: number, name: string, state: string) =>
  Object.fromEntries(
    Object.entries({ name, state, firmware: `rproc-${name}-fw`, recovery: 'enabled', coredump: 'disabled' }).map(([k, v]) => [`/sys/class/remoteproc/remoteproc${n}/${k}`, `${v}\n`]),
  );

describe('remoteproc sysfs', () => {
  it('orders processors by index (remoteproc10 after remoteproc2), ignoring other entries', () => {
    expect(processorDirs(['remoteproc10', 'remoteproc2', 'power', 'remoteproc0'])).toEqual(['remoteproc0', 'remoteproc2', 'remoteproc10']);
  });

  it('reads each processor without the trailing newlines; the class missing is not present', async () => {
    const status = await readRemoteproc(sysfs({ ...rproc(1, 'm7', 'running'), ...rproc(0, 'm4', 'offline') }));
    expect(status).toEqual({
      present: true,
      processors: [
        { dir: 'remoteproc0', index: 0, name: 'm4', state: 'offline', firmware: 'rproc-m4-fw', recovery: 'enabled', coredump: 'disabled' },
        { dir: 'remoteproc1', index: 1, name: 'm7', state: 'running', firmware: 'rproc-m7-fw', recovery: 'enabled', coredump: 'disabled' },
      ],
    });
    expect(await readRemoteproc(sysfs({}))).toEqual({ present: false, processors: [] });
  });

  it('leaves out a processor whose files vanished while read (its driver removed)', async () => {
    const files = rproc(0, 'm4', 'running');
    delete files['/sys/class/remoteproc/remoteproc0/coredump'];
    expect((await readRemoteproc(sysfs(files))).processors).toEqual([]);
  });

  it('phases: running and attached run, detached is shut down, crashed failed; offline is no partition', () => {
    expect(['running', 'attached', 'suspended', 'detached', 'crashed', 'invalid'].map(phaseOf)).toEqual(['running', 'running', 'running', 'shut-down', 'failed', 'failed']);
    const status = toBackendStatus({ present: true, processors: [{ dir: 'remoteproc0', index: 0, name: 'm4', state: 'offline', firmware: '', recovery: 'enabled', coredump: 'disabled' }] });
    expect(status.partitions).toEqual([]);
  });

  it('is in transition while the kernel recovers a processor crtosd runs, only with recovery enabled', () => {
    const at = (state: string, recovery: string) =>
      remoteprocTransition(toBackendStatus({ present: true, processors: [{ dir: 'remoteproc0', index: 0, name: 'm4', state, firmware: '', recovery, coredump: 'disabled' }] }), ['m4']);
    expect(at('crashed', 'enabled')).toMatchObject({ why: expect.stringContaining('recovering m4') });
    expect(at('offline', 'enabled')).toBeDefined();
    expect(at('crashed', 'disabled')).toBeUndefined();
    expect(at('running', 'enabled')).toBeUndefined();
    expect(remoteprocTransition(toBackendStatus({ present: true, processors: [{ dir: 'remoteproc0', index: 0, name: 'm4', state: 'crashed', firmware: '', recovery: 'enabled', coredump: 'disabled' }] }), [])).toBeUndefined();
  });
});
