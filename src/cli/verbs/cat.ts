/**
 * `crtosctl cat UNIT…`: the unit's file and its drop-ins in the order they apply, each under a
 * `# path` comment, as systemctl cat. The paths come from crtosd; the files are read here, with
 * the caller's permissions. Exit 1, as systemctl's, when a unit has no files or one cannot be read.
 */
import { readFile } from 'node:fs/promises';
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './cat.options.js';
import { withClient, writeJson } from '../daemon.js';
import { grey } from '../format/text.js';

interface FileText {
  path: string;
  content?: string;
  error?: string;
}

async function readText(path: string): Promise<FileText> {
  try {
    return { path, content: await readFile(path, 'utf8') };
  } catch (e) {
    const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : 'unreadable';
    return { path, error: code };
  }
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length === 0) throw new UsageError('which unit? usage: crtosctl cat UNIT...');
  const style = { color: ctx.color };
  return withClient<ExitKind>(ctx, args, async (client) => {
    const shown: { unit: string; files: FileText[] }[] = [];
    let missing = false;
    let unreadable = false;
    for (const id of args.positional) {
      const unit = await client.unit(id);
      if (!unit) {
        ctx.stderr.write(`No files found for ${id}.\n`);
        missing = true;
        continue;
      }
      const files = await Promise.all([unit.sourcePath, ...unit.dropInPaths].filter(Boolean).map(readText));
      if (files.some((f) => f.error)) unreadable = true;
      shown.push({ unit: unit.id, files });
    }
    if (args.flags.has('json')) writeJson(ctx, shown);
    else {
      const blocks = shown.flatMap(({ files }) =>
        files.map((f) => `${grey(style, `# ${f.path}`)}\n${f.content !== undefined ? f.content.replace(/\n?$/, '\n') : grey(style, `# (cannot read: ${f.error})`) + '\n'}`),
      );
      ctx.stdout.write(blocks.join('\n'));
    }
    // As systemctl cat: a unit with no files (crtosd does not have it) is a failure, 1, like an unreadable file.
    return missing || unreadable ? 'failed' : 'ok';
  });
}
