/**
 * `crtosctl cell-config show --generated UNIT [--units DIR]... [--root DIR] [--state-dir DIR] [--full] [--json]`:
 * the configuration crtosd would write for a Hypervisor unit (its system configuration with its
 * links) or a Cell unit (its own configuration with its links), in the readable description form,
 * for review before it is applied. The unit files are checked as the daemon checks them before it
 * applies a set; links stay where the running hypervisor has them (its record in the state
 * directory under --root), as the daemon keeps them.
 */
import { join, resolve } from 'node:path';
import { UsageError, type CliContext, type ExitKind } from '../context.js';
import { loadUnits } from '../../units/load.js';
import { renderProblems, problemsToJson } from '../../errors/render.js';
import { hasErrors } from '../../errors/problem.js';
import { checkTransaction, machineFilesUnder } from '../../transaction/check.js';
import { unitId } from '../../kinds/index.js';
import { describeConfig, describeConfigYaml } from '../../jailhouse/index.js';
import { fileStateStore } from '../../engine/state-file.js';
import { layOut, recordedPlacements } from '../../backends/jailhouse/layout.js';
import { systemConfigPath } from '../../backends/jailhouse/describe.js';
import { hypervisorOfCell, inlineConfigPath } from '../../kinds/cell/spec.js';
import { systemLabel, type JailhouseHypervisor } from '../../backends/jailhouse/definition.js';
import type { HypervisorCommon } from '../../backends/port.js';

export interface GeneratedOptions {
  unit: string;
  directories?: string[];
  root: string;
  stateDir: string;
  full: boolean;
  json: boolean;
}

export async function showGenerated(ctx: CliContext, o: GeneratedOptions): Promise<ExitKind> {
  const loaded = await loadUnits({ directories: o.directories, cwd: ctx.cwd, requireDirectories: o.directories !== undefined });
  const root = resolve(ctx.cwd, o.root);
  const machine = machineFilesUnder(root);
  if (loaded.set) loaded.problems.push(...(await checkTransaction({ set: loaded.set, sources: loaded.sources, machine })));
  if (!loaded.set || hasErrors(loaded.problems)) {
    if (o.json) ctx.stdout.write(`${JSON.stringify({ problems: problemsToJson(loaded.problems) }, null, 2)}\n`);
    else ctx.stderr.write(`${renderProblems(loaded.problems, { color: ctx.color })}crtosd would refuse these unit files, so it would write nothing.\n`);
    return 'failed';
  }
  const set = loaded.set;
  const unit = set.units.get(o.unit);
  // The unit itself when it is a Hypervisor (its id is its kind's), else the one its cell runs on.
  const hvId = unit && unit.id === unitId(unit.name, 'Hypervisor') ? unit.id : unit ? hypervisorOfCell(unit) : undefined;
  const hv = hvId ? set.units.get(hvId) : undefined;
  if (!unit || !hv) throw new UsageError(`${o.unit} is not a Hypervisor or Cell unit of ${set.directories.join(', ')}`);
  if ((hv.spec as HypervisorCommon).type !== 'jailhouse') throw new UsageError(`${hv.id} is not a Jailhouse hypervisor: only Jailhouse configurations are generated`);
  const jh = hv as JailhouseHypervisor;
  const records = fileStateStore(join(root, o.stateDir)).load().records;
  const previous = recordedPlacements(set, jh.id, (id) => records.get(id)?.facts);
  const layout = await layOut({ hv: jh, set, read: (path) => machine.read(path), previous });
  const generated = unit === hv ? layout.system : layout.cells.get(unit.id);
  const path = unit === hv ? systemConfigPath(jh.name) : inlineConfigPath(unit.name);
  if (!generated) {
    ctx.stdout.write(`# ${unit.id} takes part in no link: crtosd uses its own configuration as written (\`crtosctl cell-config show\` reads a .cell file)\n`);
    return 'ok';
  }
  const links = [...layout.links.values()].sort((a, b) => (a.placement.address < b.placement.address ? -1 : 1)).filter((l) => l.request.peers.some((p) => p.cell === (unit === hv ? undefined : unit.id)));
  if (o.json) {
    ctx.stdout.write(`${JSON.stringify({ path, links: links.map((l) => l.request.id), config: describeConfig(generated.config, { full: o.full }) }, null, 2)}\n`);
    return 'ok';
  }
  const where = links.map((l) => `${l.request.id} at 0x${l.placement.address.toString(16)}`).join(', ');
  ctx.stdout.write(`# What crtosd writes to ${path} (${generated.bytes.length} bytes): ${unit === hv ? systemLabel(jh.spec) : `the configuration of ${unit.id}`} with ${where}\n`);
  ctx.stdout.write(describeConfigYaml(generated.config, { full: o.full }));
  return 'ok';
}
