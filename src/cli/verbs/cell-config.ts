/**
 * `crtosctl cell-config`: look inside, build and check Jailhouse .cell files offline.
 *
 *   show FILE.cell [--arch A | --system SYSTEM.cell] [--full] [--json]   the file as a YAML description (or JSON)
 *   show --generated UNIT [--units DIR]... [--root DIR]                  what crtosd writes for a unit (cell-config-generated.ts)
 *   build DESC.yaml -o FILE.cell [--arch A]                             description -> binary
 *   check SYSTEM.cell [CELL.cell...] [--image CELL=FILE@ADDR...] [--arch A] [--json]
 *
 * Revision 12/13 files carry no architecture byte: without --arch it is inferred from what the
 * file says, and a file that does not tell is refused (never a default). --system takes a cell's
 * from its system configuration; cells of a check take the system's.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError, type CliContext, type ExitKind } from '../context.js';
import { hasErrors, isError, isProblemError, problem, type Problem } from '../../errors/problem.js';
import { problemsToJson, renderProblems } from '../../errors/render.js';
import {
  checkConfigs,
  checkPciTypes,
  decodeConfig,
  describeConfig,
  describeConfigYaml,
  encodeConfig,
  parseConfigDescriptionText,
  parseInteger,
  targetMismatches,
  type Arch,
  type ArchSource,
  type CellConfig,
  type CheckInput,
  type ConfigFile,
  type SystemConfig,
} from '../../jailhouse/index.js';

const USAGE = `Usage:
  crtosctl cell-config show FILE.cell [--arch x86|arm|arm64 | --system SYSTEM.cell] [--full] [--json]
  crtosctl cell-config show --generated UNIT [--units DIR]... [--root DIR] [--state-dir DIR] [--full] [--json]
  crtosctl cell-config build DESC.yaml -o FILE.cell [--arch x86|arm|arm64]
  crtosctl cell-config check SYSTEM.cell [CELL.cell...] [--image CELL=FILE@ADDR...] [--arch x86|arm|arm64] [--json]
  crtosctl cell-config check --system SYSTEM.cell CELL.cell... [--image ...] [--json]

Revision 12 and 13 files carry no architecture byte. Without --arch it is inferred from what the
file says (platform info, IOMMU units, consoles, irqchips, port I/O regions, stream ids, flags), and
a file that does not tell is refused; 32-bit and 64-bit ARM share one layout, so only arm64-only
features tell them apart. --system SYSTEM.cell reads a cell with its system configuration's
architecture and checks that their revisions agree; the cells of a check take the system's.
A description that does not write arch: is read the same way (--arch fills it in).

show --generated UNIT prints what crtosd writes for a Hypervisor unit (its system configuration
with its links) or a Cell unit (its configuration with its links), from the unit files (--units,
default the daemon's) and the machine under --root (default /), links where the running
hypervisor has them (its state directory, --state-dir, default /run/crtos).
`;

interface Options {
  positional: string[];
  json: boolean;
  full: boolean;
  arch?: Arch;
  /** --system: the system configuration a cell belongs to. */
  system?: string;
  output?: string;
  images: string[];
  /** show --generated UNIT: what crtosd writes for a unit, from the unit files. */
  generated: boolean;
  units: string[];
  root?: string;
  stateDir?: string;
}

function parseArgs(args: readonly string[]): Options {
  const o: Options = { positional: [], json: false, full: false, images: [], generated: false, units: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const [flag, inline] = a.split(/=(.*)/s, 2) as [string, string | undefined];
      if (inline !== undefined && flag.startsWith('--')) return inline;
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    const flag = a.startsWith('--') ? a.split('=', 1)[0]! : a;
    switch (flag) {
      case '--json':
        o.json = true;
        break;
      case '--full':
        o.full = true;
        break;
      case '--arch': {
        const arch = value();
        if (arch !== 'x86' && arch !== 'arm' && arch !== 'arm64') throw new UsageError(`--arch must be x86, arm or arm64, got '${arch}'`);
        o.arch = arch;
        break;
      }
      case '--system':
        o.system = value();
        break;
      case '-o':
      case '--output':
        o.output = value();
        break;
      case '--image':
        o.images.push(value());
        break;
      case '--generated':
        o.generated = true;
        break;
      case '--units':
        o.units.push(value());
        break;
      case '--root':
        o.root = value();
        break;
      case '--state-dir':
        o.stateDir = value();
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option '${a}'\n${USAGE}`);
        o.positional.push(a);
    }
  }
  return o;
}

async function readBytes(ctx: CliContext, file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(resolve(ctx.cwd, file)));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function withFile(problems: readonly Problem[], file: string): Problem[] {
  return problems.map((p) => ({ ...p, file: p.file ?? file }));
}

function report(ctx: CliContext, opts: Options, problems: readonly Problem[], extra: object = {}): void {
  if (opts.json) ctx.stdout.write(JSON.stringify({ ...extra, problems: problemsToJson(problems) }, null, 2) + '\n');
  else ctx.stderr.write(renderProblems(problems, { color: ctx.color }));
}

type Decoded = { ok: true; config: ConfigFile; archSource: ArchSource } | { ok: false; problems: Problem[] };

async function decodeFile(ctx: CliContext, file: string, arch: Arch | undefined): Promise<Decoded> {
  const r = decodeConfig(await readBytes(ctx, file), arch ? { arch } : {});
  return r.ok ? r : { ok: false, problems: withFile(r.problems, file) };
}

/** The system configuration --system (or check's first file) names, with how its architecture was known. */
async function decodeSystemFile(ctx: CliContext, file: string, arch: Arch | undefined): Promise<{ ok: true; config: SystemConfig; archSource: ArchSource } | { ok: false; problems: Problem[] }> {
  const r = await decodeFile(ctx, file, arch);
  if (!r.ok) return r;
  if (r.config.kind !== 'system') {
    return { ok: false, problems: [problem('CELLCFG_WRONG_KIND', 'this is a cell configuration, where a system configuration was expected', { file, offset: 0, hint: 'name the system configuration (the file jailhouse enable takes)' })] };
  }
  return { ok: true, config: r.config, archSource: r.archSource };
}

/** How the architecture was known, for the header comment of `show`. */
function archSourceText(source: ArchSource, opts: Options, system: string | undefined): string {
  if (system !== undefined) return `from ${system}`;
  if (source.how === 'byte') return 'architecture byte';
  if (source.how === 'given') return opts.arch ? '--arch' : 'given';
  return `inferred: ${source.reasons.join('; ')}`;
}

async function show(ctx: CliContext, opts: Options): Promise<ExitKind> {
  if (opts.generated) {
    const [unit, ...more] = opts.positional;
    if (unit === undefined || more.length > 0) throw new UsageError(`show --generated takes one unit id (jailhouse.hypervisor, nuttx.cell)\n${USAGE}`);
    const { showGenerated } = await import('./cell-config-generated.js');
    return showGenerated(ctx, { unit, ...(opts.units.length ? { directories: opts.units } : {}), root: opts.root ?? '/', stateDir: opts.stateDir ?? '/run/crtos', full: opts.full, json: opts.json });
  }
  const [file, ...rest] = opts.positional;
  if (file === undefined || rest.length > 0) throw new UsageError(`show takes one file\n${USAGE}`);
  const problems: Problem[] = [];
  let system: { file: string; config: SystemConfig } | undefined;
  if (opts.system !== undefined) {
    const sys = await decodeSystemFile(ctx, opts.system, opts.arch);
    if (!sys.ok) {
      report(ctx, opts, sys.problems);
      return 'failed';
    }
    system = { file: opts.system, config: sys.config };
  }
  const r = await decodeFile(ctx, file, opts.arch ?? system?.config.arch);
  if (!r.ok) {
    report(ctx, opts, r.problems);
    return 'failed';
  }
  if (system) {
    if (r.config.kind !== 'cell') problems.push(problem('CELLCFG_WRONG_KIND', '--system takes the system configuration of a cell, but this file is a system configuration itself', { file, offset: 0 }));
    else problems.push(...targetMismatches(system, { file, config: r.config }));
  }
  // What the hypervisor reads differently than the file says, shown beside the description.
  const notes = checkPciTypes(r.config, file);
  if (opts.json) {
    ctx.stdout.write(JSON.stringify(describeConfig(r.config, { full: opts.full }), null, 2) + '\n');
  } else {
    const bytes = (await readBytes(ctx, file)).length;
    const arch = `${r.config.arch} (${archSourceText(r.archSource, opts, system?.file)})`;
    ctx.stdout.write(`# ${file}: ${r.config.kind} configuration, revision ${r.config.revision}, ${arch}, ${bytes} bytes\n`);
    for (const n of notes) ctx.stdout.write(`# warning: ${n.message}\n`);
    ctx.stdout.write(describeConfigYaml(r.config, { full: opts.full }));
  }
  if (problems.length > 0) report(ctx, { ...opts, json: false }, problems);
  return hasErrors(problems) ? 'failed' : 'ok';
}

async function build(ctx: CliContext, opts: Options): Promise<ExitKind> {
  const [file, ...rest] = opts.positional;
  if (file === undefined || rest.length > 0 || opts.output === undefined) throw new UsageError(`build takes one description and -o FILE.cell\n${USAGE}`);
  const text = new TextDecoder().decode(await readBytes(ctx, file));
  // A description that does not write arch: gets --arch, or what it says; never a default.
  const parsed = parseConfigDescriptionText(text, file, { arch: opts.arch ?? 'infer' });
  if (!parsed.ok) {
    if (opts.json) report(ctx, opts, parsed.problems);
    else ctx.stderr.write(renderProblems(parsed.problems, { color: ctx.color, sources: new Map([[file, text]]) }));
    return 'failed';
  }
  if (opts.arch !== undefined && parsed.config.arch !== opts.arch) {
    throw new UsageError(`${file} writes arch: ${parsed.config.arch}, but --arch says ${opts.arch}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeConfig(parsed.config);
  } catch (e) {
    if (!isProblemError(e)) throw e;
    report(ctx, opts, withFile(e.problems, file));
    return 'failed';
  }
  await writeFile(resolve(ctx.cwd, opts.output), bytes);
  if (opts.json) ctx.stdout.write(JSON.stringify({ output: opts.output, bytes: bytes.length, kind: parsed.config.kind, revision: parsed.config.revision, arch: parsed.config.arch }) + '\n');
  return 'ok';
}

/** `CELL=FILE@ADDR`: the image FILE goes to guest address ADDR of cell CELL. */
async function parseImage(ctx: CliContext, spec: string): Promise<NonNullable<CheckInput['images']>[number]> {
  const m = /^([^=]+)=(.+)@([^@]+)$/.exec(spec);
  const address = m ? parseInteger(m[3]!) : undefined;
  if (!m || address === undefined) throw new UsageError(`--image takes CELL=FILE@ADDRESS (e.g. nuttx=nuttx.bin@0x0), got '${spec}'`);
  let size: number;
  try {
    size = (await stat(resolve(ctx.cwd, m[2]!))).size;
  } catch (e) {
    throw new Error(`cannot read ${m[2]}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return { cell: m[1]!, file: m[2]!, size, address };
}

async function check(ctx: CliContext, opts: Options): Promise<ExitKind> {
  // `check --system SYSTEM CELL...` is `check SYSTEM CELL...`.
  const [systemFile, ...cellFiles] = opts.system === undefined ? opts.positional : [opts.system, ...opts.positional];
  if (systemFile === undefined) throw new UsageError(`check takes a system configuration and any number of cell configurations\n${USAGE}`);
  const images = await Promise.all(opts.images.map((s) => parseImage(ctx, s)));
  const problems: Problem[] = [];
  const sys = await decodeSystemFile(ctx, systemFile, opts.arch);
  const system = sys.ok ? sys.config : undefined;
  if (!sys.ok) problems.push(...sys.problems);
  const cells: { file: string; config: CellConfig }[] = [];
  for (const file of cellFiles) {
    const r = await decodeFile(ctx, file, opts.arch ?? system?.arch);
    if (!r.ok) problems.push(...r.problems);
    else if (r.config.kind !== 'cell') problems.push(problem('CELLCFG_WRONG_KIND', 'this is a system configuration; only the first file may be one', { file, offset: 0 }));
    else cells.push({ file, config: r.config });
  }
  if (system) problems.push(...checkConfigs({ system: { file: systemFile, config: system }, cells, images }));

  if (opts.json) {
    report(ctx, opts, problems, { system: systemFile, cells: cellFiles, ok: !hasErrors(problems) });
  } else {
    // What was read, as upstream's `jailhouse config check` lists it.
    if (system) {
      const lines = [`Architecture:  ${system.arch} (revision ${system.revision}${sys.ok && sys.archSource.how === 'inferred' ? `; inferred: ${sys.archSource.reasons.join('; ')}` : ''})`, `Root cell:     ${system.rootCell.name} (${systemFile})`];
      for (const c of cells) lines.push(`Non-root cell: ${c.config.name} (${c.file})`);
      ctx.stdout.write(lines.join('\n') + '\n');
    }
    ctx.stdout.write(renderProblems(problems, { color: ctx.color }));
    const errors = problems.filter(isError).length;
    const warnings = problems.length - errors;
    const checked = `${1 + cellFiles.length} configuration${cellFiles.length === 0 ? '' : 's'}${images.length > 0 ? ` and ${images.length} image${images.length === 1 ? '' : 's'}` : ''}`;
    ctx.stdout.write(problems.length === 0 ? `${checked}: no findings\n` : `${checked}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  }
  return hasErrors(problems) ? 'failed' : 'ok';
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const [sub, ...rest] = ctx.args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? ctx.stderr : ctx.stdout).write(USAGE);
    return sub === undefined ? 'usage' : 'ok';
  }
  const opts = parseArgs(rest);
  switch (sub) {
    case 'show':
      return show(ctx, opts);
    case 'build':
      return build(ctx, opts);
    case 'check':
      return check(ctx, opts);
    default:
      throw new UsageError(`unknown subcommand '${sub}'\n${USAGE}`);
  }
}
