/** The `crtos-sim` command, testable in-process: argv in, exit code out. */
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isErrnoName } from '../host/errno.js';
import { isProblemError } from '../errors/problem.js';
import { createSimMachine, destroySimMachine, openSimMachine } from './machine.js';
import { PROCESSOR_CRASH_TYPES, REAL_TIMINGS, SIM_OPERATIONS, TIMING_NAMES, type SimCellFailure, type SimFault, type SimOperation, type SimProcessorFault } from './faults.js';
import type { MachineDescription } from './description.js';
import { RTMUX_DESCRIPTION } from './rtmux-example.js';
import { REMOTEPROC_DESCRIPTION } from './remoteproc/example.js';
import { FLEET_ARM64_DESCRIPTION, LINUX_ONLY_DESCRIPTION } from './fleet-examples.js';

/** The machines `--example` names: what each deployment under units/ expects to find. */
const EXAMPLES: Record<string, Partial<MachineDescription>> = {
  crtos: {},
  rtmux: RTMUX_DESCRIPTION,
  remoteproc: REMOTEPROC_DESCRIPTION,
  'fleet-arm64': FLEET_ARM64_DESCRIPTION,
  'linux-only': LINUX_ONLY_DESCRIPTION,
};

export interface SimCliIo {
  out(text: string): void;
  err(text: string): void;
  readFile(path: string): string;
}

const USAGE = `Usage: crtos-sim COMMAND DIR ...
  create DIR [--example crtos|rtmux|remoteproc|fleet-arm64|linux-only] [--machine FILE] [--fast-timings]
                                     make a simulated machine: the cRTOS example (default), the
                                     RTMux or the remoteproc (i.MX8M) one, or units/fleet's arm64
                                     Jailhouse board or gateway without Jailhouse, FILE's description;
                                     its destroy and disable take the real hypervisor's times unless
                                     --fast-timings (the test helpers' defaults)
                                     (JSON or YAML) merged over it; a remoteproc machine's sysfs
                                     stays mounted until \`destroy\`
  destroy DIR                        power the machine off (unmount its sysfs) and remove it
  env DIR                            print the environment that puts its stand-in tools first
  log DIR [--json]                   print the operations performed on it
  fault DIR OP (--errno E | --hang) [--times N] [--target NAME]
  fault DIR --latency OP=MS
  fault DIR --fail-cell NAME (--after MS | --at-start | --now) [--times N]
                                     --at-start: failed inside \`cell start\`, before it returns
  fault DIR --timing (destroy|disable)=MS
                                     how long a destroy reads \`invalid\`; how long disable keeps
                                     \`enabled\` 1 after the cells are gone
  fault DIR --real-timings           the real hypervisor's: destroy=${REAL_TIMINGS.destroyMs} disable=${REAL_TIMINGS.disableMs}
  fault DIR --processor NAME (--crash [--type T] | --hang) (--now | [--after MS] [--times N])
                                     the remote processor's firmware crashes (T: mmufault, watchdog,
                                     fatal error) or hangs: now, or MS after each start
  fault DIR --processor NAME --boot-fail [--times N]
                                     its next firmware loads fail the ELF checks (EINVAL)
  fault DIR --clear                  faults, latencies, cell and processor failures and timings
                                     back to none/defaults
Operations: ${SIM_OPERATIONS.join(', ')}
`;

function usage(io: SimCliIo, message?: string): number {
  if (message) io.err(`crtos-sim: ${message}\n`);
  io.err(USAGE);
  return 2;
}

/** An argument on one log line: a value written to sysfs often ends in a newline. */
function printable(arg: string): string {
  return arg.replace(/\n/g, '\\n');
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function runSimCli(argv: string[], io: SimCliIo): Promise<number> {
  const [command, dirArg, ...rest] = argv;
  if (command === '--help' || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command === undefined || dirArg === undefined) return usage(io, 'missing command or directory');
  const dir = resolve(dirArg);
  try {
    switch (command) {
      case 'create': {
        const example = option(rest, '--example') ?? 'crtos';
        const base = EXAMPLES[example];
        if (!base) return usage(io, `unknown example ${JSON.stringify(example)} (${Object.keys(EXAMPLES).join(', ')})`);
        const file = option(rest, '--machine');
        const description = file === undefined ? undefined : readDescriptionFile(file, io);
        if (description === null) return 1;
        const machine = await createSimMachine(dir, { ...base, ...description }, { persistent: true });
        // From the command line the machine behaves as the real one did; tests create theirs
        // through createSimMachine, with DEFAULT_TIMINGS, so the suite does not wait out real phases.
        if (!rest.includes('--fast-timings')) await machine.setTimings(REAL_TIMINGS);
        io.out(`created simulated machine in ${machine.dir}\n`);
        const endpoint = machine.readinessEndpoint();
        if (endpoint) io.out(`readiness endpoint of nuttx: ${endpoint.host}:${endpoint.port}\n`);
        return 0;
      }
      case 'env': {
        const machine = openSimMachine(dir);
        io.out(`export PATH='${(machine.env.PATH ?? '').replace(/'/g, `'\\''`)}'\n`);
        return 0;
      }
      case 'log': {
        const entries = await openSimMachine(dir).readLog();
        if (rest.includes('--json')) for (const e of entries) io.out(`${JSON.stringify(e)}\n`);
        else for (const e of entries) io.out(`${e.time}  ${e.op.padEnd(24)} ${e.result.padEnd(8)} ${e.args.map(printable).join(' ')}\n`);
        return 0;
      }
      case 'destroy':
        await destroySimMachine(dir);
        return 0;
      case 'fault':
        return await fault(dir, rest, io);
      default:
        return usage(io, `unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    if (isProblemError(e)) {
      for (const p of e.problems) io.err(`crtos-sim: ${p.message}${p.hint ? ` (${p.hint})` : ''}\n`);
      return 1;
    }
    io.err(`crtos-sim: ${(e as Error).message}\n`);
    return 1;
  }
}

/** A machine description in JSON or YAML; null (after saying why) when it cannot be read. */
function readDescriptionFile(file: string, io: SimCliIo): Partial<MachineDescription> | null {
  let text: string;
  try {
    text = io.readFile(file);
  } catch (e) {
    io.err(`crtos-sim: cannot read ${file}: ${(e as Error).message}\n`);
    return null;
  }
  try {
    const value: unknown = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a mapping of description fields');
    return value as Partial<MachineDescription>;
  } catch (e) {
    io.err(`crtos-sim: ${file}: ${(e as Error).message}\n`);
    return null;
  }
}

async function fault(dir: string, args: string[], io: SimCliIo): Promise<number> {
  const machine = openSimMachine(dir);
  if (args.includes('--clear')) {
    await machine.setFaults([]);
    await machine.setLatencies({});
    await machine.setCellFailures([]);
    await machine.setProcessorFaults([]);
    await machine.setTimings(null);
    return 0;
  }
  const processor = option(args, '--processor');
  if (processor !== undefined) return processorFault(machine, processor, args, io);
  if (args.includes('--real-timings')) {
    await machine.setTimings(REAL_TIMINGS);
    return 0;
  }
  const timing = option(args, '--timing');
  if (timing !== undefined) {
    const m = /^(\w+)=(\d+)$/.exec(timing);
    if (!m || !(TIMING_NAMES as readonly string[]).includes(m[1] as string)) return usage(io, `--timing takes NAME=MS, NAME one of ${TIMING_NAMES.join(', ')}`);
    await machine.setTimings({ [`${m[1]}Ms`]: Number(m[2]) });
    return 0;
  }
  const latency = option(args, '--latency');
  if (latency !== undefined) {
    const m = /^(.+)=(\d+)$/.exec(latency);
    if (!m || !SIM_OPERATIONS.includes(m[1] as SimOperation)) return usage(io, `--latency takes OP=MS, OP one of the operations below`);
    const current = (await machine.faults()).latencies;
    await machine.setLatencies({ ...current, [m[1] as SimOperation]: Number(m[2]) });
    return 0;
  }
  const failCell = option(args, '--fail-cell');
  if (failCell !== undefined) {
    if (args.includes('--now')) {
      await machine.failCell(failCell);
      return 0;
    }
    const after = option(args, '--after');
    const atStart = args.includes('--at-start');
    if (atStart === (after !== undefined) || (after !== undefined && !/^\d+$/.test(after))) return usage(io, '--fail-cell needs one of --after MS, --at-start or --now');
    const times = option(args, '--times');
    if (times !== undefined && !/^[1-9]\d*$/.test(times)) return usage(io, '--times takes a positive integer');
    const failure: SimCellFailure = atStart ? { cell: failCell, atStart: true } : { cell: failCell, afterStartMs: Number(after) };
    if (times !== undefined) failure.times = Number(times);
    const current = (await machine.faults()).cellFailures.filter((f) => f.cell !== failCell);
    await machine.setCellFailures([...current, failure]);
    return 0;
  }
  const op = args[0];
  if (op === undefined || !SIM_OPERATIONS.includes(op as SimOperation)) return usage(io, `unknown operation ${JSON.stringify(op)}`);
  const errno = option(args, '--errno');
  const times = option(args, '--times');
  const target = option(args, '--target');
  if (errno !== undefined && !isErrnoName(errno)) return usage(io, `unknown errno ${errno}`);
  if (errno === undefined && !args.includes('--hang')) return usage(io, 'a fault needs --errno E or --hang');
  if (times !== undefined && !/^[1-9]\d*$/.test(times)) return usage(io, '--times takes a positive integer');
  const f: SimFault = { op: op as SimOperation };
  if (errno !== undefined) f.errno = errno;
  if (args.includes('--hang')) f.hang = true;
  if (times !== undefined) f.times = Number(times);
  if (target !== undefined) f.target = target;
  await machine.addFault(f);
  return 0;
}

/** `fault DIR --processor NAME …`: a crash or hang now (through the kernel), or a fault in faults.json. */
async function processorFault(machine: ReturnType<typeof openSimMachine>, processor: string, args: string[], io: SimCliIo): Promise<number> {
  const kinds = (['crash', 'hang', 'boot-fail'] as const).filter((k) => args.includes(`--${k}`));
  const kind = kinds[0];
  if (kind === undefined || kinds.length > 1) return usage(io, '--processor needs one of --crash, --hang or --boot-fail');
  const type = option(args, '--type');
  if (type !== undefined && (kind !== 'crash' || !(PROCESSOR_CRASH_TYPES as readonly string[]).includes(type))) return usage(io, `--type is for --crash: one of ${PROCESSOR_CRASH_TYPES.join(', ')}`);
  const crashType = type as SimProcessorFault['crashType'];
  const after = option(args, '--after');
  const times = option(args, '--times');
  if (after !== undefined && (kind === 'boot-fail' || !/^\d+$/.test(after))) return usage(io, '--after MS is for --crash and --hang');
  if (times !== undefined && !/^[1-9]\d*$/.test(times)) return usage(io, '--times takes a positive integer');
  if (args.includes('--now')) {
    if (kind === 'boot-fail' || after !== undefined || times !== undefined) return usage(io, '--now is for --crash and --hang, without --after or --times');
    if (kind === 'crash') await machine.crashProcessor(processor, crashType);
    else await machine.hangProcessor(processor);
    return 0;
  }
  const f: SimProcessorFault = { processor, kind };
  if (after !== undefined) f.afterMs = Number(after);
  if (crashType !== undefined) f.crashType = crashType;
  if (times !== undefined) f.times = Number(times);
  await machine.setProcessorFaults([...((await machine.faults()).processorFaults ?? []), f]);
  return 0;
}
