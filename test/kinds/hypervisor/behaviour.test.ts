/**
 * The RTMux hypervisor behaviour against a recording fake Host: what observe concludes from a
 * snapshot, and which host steps start takes from each machine state (resume, repair, refuse).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { hypervisorBehaviour } from '../../../src/kinds/hypervisor/behaviour.js';
import type { KindContext, Target } from '../../../src/kinds/behaviours.js';
import type { Snapshot, UnitFacts } from '../../../src/engine/types.js';
import { describeUnits } from '../../../src/engine/description.js';
import type { Host, ModuleInfo } from '../../../src/host/host.js';
import { HostError } from '../../../src/host/host-error.js';
import { loadUnits } from '../../../src/units/index.js';
import { repoRoot } from '../../units/helpers.js';
import { firstProblem } from '../../helpers/rejections.js';

const sha = (b: string) => createHash('sha256').update(b).digest('hex');
const IMAGE = '/opt/rtmux/rtthread.bin';
const PLACED = '/vmm/rtos.bin';

/** The example units with the Image's pin replaced by the sha256 of `content`. */
async function rtmuxSet(content: string) {
  const r = await loadUnits({ directories: ['units/rtmux'], cwd: repoRoot });
  const set = r.set!;
  const image = set.units.get('rt-thread.image')!;
  if (image.kind !== 'Image') throw new Error('example changed');
  (image.spec as { sha256?: string }).sha256 = sha(content);
  return set;
}

interface FakeMachine {
  files: Map<string, string>;
  modules: string[];
  calls: string[];
  failInstall?: boolean;
}

function fakeHost(m: FakeMachine): Host {
  const host: Partial<Host> = {
    root: '/',
    readFile: async (p) => {
      const c = m.files.get(p);
      if (c === undefined) throw new HostError({ code: 'HOST_READ_FAILED', op: 'readFile', errno: 'ENOENT', message: `readFile: cannot read ${p}: ENOENT` });
      return Buffer.from(c);
    },
    // Images are hashed from pieces (src/kinds/image/digest.ts): the same bytes, as the Linux host reads them.
    async *readChunks(p, chunkBytes) {
      const bytes = await host.readFile!(p);
      for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes);
    },
    modules: async () => m.modules.map((name): ModuleInfo => ({ name, size: 1, refcount: 0, usedBy: [], state: 'Live', parameters: {} })),
    installFile: async (from, to) => {
      m.calls.push(`install ${from} ${to}`);
      if (m.failInstall) throw new HostError({ code: 'HOST_WRITE_FAILED', op: 'installFile', errno: 'ENOSPC', message: `installFile: cannot write ${to}: No space left on device` });
      m.files.set(to, m.files.get(from as string)!);
    },
    loadModule: async (spec) => {
      m.calls.push(`insmod ${spec.path}`);
      m.modules.push('rtvmm');
    },
    unloadModule: async (name) => {
      m.calls.push(`rmmod ${name}`);
      m.modules = m.modules.filter((x) => x !== name);
    },
  };
  return host as Host;
}

async function startWith(m: FakeMachine, pinned: string): Promise<UnitFacts> {
  const set = await rtmuxSet(pinned);
  const host = fakeHost(m);
  const desc = (await describeUnits(set, host)).get('rtmux.hypervisor')!;
  const ctx: KindContext = { host, set, desc, timed: (op) => (typeof op === 'function' ? op({}) : op), sleep: async () => undefined, baseEnv: {}, log: () => undefined };
  return hypervisorBehaviour.start(set.units.get('rtmux.hypervisor')!, ctx);
}

describe('RTMux start', () => {
  it('from nothing: places the image, then loads the module, and records what it placed', async () => {
    const m: FakeMachine = { files: new Map([[IMAGE, 'v1']]), modules: [], calls: [] };
    expect(await startWith(m, 'v1')).toEqual({ hypervisorType: 'rtmux', moduleName: 'rtvmm', imageSha256: sha('v1') });
    expect(m.calls).toEqual([`install ${IMAGE} ${PLACED}`, 'insmod /lib/modules/rtvmm.ko']);
  });

  it('the same bytes already in place: not copied again', async () => {
    const m: FakeMachine = { files: new Map([[IMAGE, 'v1'], [PLACED, 'v1']]), modules: [], calls: [] };
    await startWith(m, 'v1');
    expect(m.calls).toEqual(['insmod /lib/modules/rtvmm.ko']);
  });

  it('loaded with the right image in place: nothing to do (a resumed start)', async () => {
    const m: FakeMachine = { files: new Map([[IMAGE, 'v1'], [PLACED, 'v1']]), modules: ['rtvmm'], calls: [] };
    await startWith(m, 'v1');
    expect(m.calls).toEqual([]);
  });

  it('loaded with another image in place: rmmod first, then place, then insmod', async () => {
    const m: FakeMachine = { files: new Map([[IMAGE, 'v2'], [PLACED, 'v1']]), modules: ['rtvmm'], calls: [] };
    await startWith(m, 'v2');
    expect(m.calls).toEqual(['rmmod rtvmm', `install ${IMAGE} ${PLACED}`, 'insmod /lib/modules/rtvmm.ko']);
  });

  it('an image that does not match its pin is refused before anything is touched', async () => {
    const m: FakeMachine = { files: new Map([[IMAGE, 'tampered']]), modules: [], calls: [] };
    const p = await firstProblem(startWith(m, 'v1'));
    expect(p.code).toBe('ENGINE_IMAGE_MISMATCH');
    expect(p.message).toContain(`image ${IMAGE} (rt-thread.image) has sha256 ${sha('tampered')}`);
    expect(m.calls).toEqual([]);
  });

  it('a missing image is refused naming the file', async () => {
    const m: FakeMachine = { files: new Map(), modules: [], calls: [] };
    const p = await firstProblem(startWith(m, 'v1'));
    expect(p.code).toBe('ENGINE_IMAGE_MISSING');
    expect(p.message).toContain(IMAGE);
    expect(m.calls).toEqual([]);
  });

  it('a failed placement fails the start and loads nothing', async () => {
    const m: FakeMachine = { files: new Map([[IMAGE, 'v1']]), modules: [], calls: [], failInstall: true };
    const p = await firstProblem(startWith(m, 'v1'));
    expect(p.code).toBe('ENGINE_START_FAILED');
    expect(p.message).toContain(`placing ${IMAGE} at ${PLACED} failed`);
    expect(p.message).toContain('No space left on device');
    expect(m.calls).toEqual([`install ${IMAGE} ${PLACED}`]);
  });
});

describe('RTMux observe', () => {
  const snapshot = (modules: string[], placed?: string): Snapshot => ({
    backends: new Map(),
    modules: new Map(modules.map((name) => [name, { name, size: 1, refcount: 0, usedBy: [], state: 'Live', parameters: {} }])),
    onlineCpus: [0],
    processes: new Map(),
    paths: new Map(),
    digests: new Map([[PLACED, placed === undefined ? undefined : sha(placed)]]),
  });

  it('active only while the module is loaded and the placed image is the one recorded', async () => {
    const set = await rtmuxSet('v1');
    const target: Target = { id: 'rtmux.hypervisor', kind: 'Hypervisor', unit: set.units.get('rtmux.hypervisor')!, facts: { hypervisorType: 'rtmux', moduleName: 'rtvmm', imageSha256: sha('v1') } };
    expect(hypervisorBehaviour.digests!(target)).toEqual([PLACED]);
    const seen = (modules: string[], placed?: string) => {
      const o = hypervisorBehaviour.observe(target, snapshot(modules, placed));
      return `${o.state}/${o.subState}`;
    };
    expect(seen(['rtvmm'], 'v1')).toBe('active/running');
    expect(seen(['rtvmm'], 'v2')).toBe('partial/image-changed');
    expect(seen(['rtvmm'])).toBe('partial/image-missing');
    expect(seen([], 'v1')).toBe('inactive/dead');
  });

  it('a removed unit (no file left) is up while its module is loaded', () => {
    const target: Target = { id: 'rtmux.hypervisor', kind: 'Hypervisor', facts: { hypervisorType: 'rtmux', moduleName: 'rtvmm' } };
    expect(hypervisorBehaviour.digests!(target)).toEqual([]);
    expect(hypervisorBehaviour.observe(target, snapshot(['rtvmm'])).state).toBe('active');
  });
});
