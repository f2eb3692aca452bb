/**
 * Headless engine: the same code path as the extension, for scripts, benchmarks and checks.
 * Stable interface (see `--help`); failures print one line on stderr and exit non-zero.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { isEngineError } from './engine/errors';
import type { KernelPreference } from './engine/kernels/select';
import { loadModel, type Model } from './engine/model';
import type { AnalysisTraces } from './engine/slices';
import { exportTrace } from './engine/traceExport';
import { writeSafetensors } from './engine/safetensorsWriter';

const HELP = `Usage: node dist/cli.js <command> [options]

Commands:
  trace     --model <dir> --text-file <file> --out <prefix> [--logits-positions all|last|i,j,k]
            [--target-file <file>]
            Writes <prefix>.json (input_ids, tokens, offsets, logits_positions, top_next: the top-5
            {id, token, prob} at every position, best first) and <prefix>.safetensors (F32):
              logits [len(logits_positions), vocab]   (default: all positions)
              attn.<l> [heads, n, n]                  attention probabilities of layer l
              resid.<l> [n, d_model]                  residual stream entering block l
              resid.final [n, d_model]                after the final norm (BERT: last layer output)
            Masked LMs (BERT): the JSON has mask_positions and top_mask [{position, top5}] instead of top_next.
            Encoder-decoders (Marian, T5): --text-file is the source, --target-file the target prefix
            (default empty; the decoder reads decoder_start + its tokens). Tensors are encoder.attn.<l>,
            decoder.self_attn.<l>, decoder.cross_attn.<l> [heads, T, S], encoder./decoder.resid.<l>,
            encoder./decoder.resid.final, and logits over decoder positions; the JSON adds
            decoder_input_ids, decoder_tokens, decoder_offsets (offsets into the target text).
  generate  --model <dir> --text-file <file> --max-new-tokens N [--temperature T --seed S]
            [--stop-at-eos] [--target-file <file>] [--json]
            Greedy by default (T = 0). Prints the generated continuation, or with --json one line
            {"new_ids": [...], "new_text": "..."}. Runs exactly N steps unless --stop-at-eos is given.
            Encoder-decoders continue the target prefix (--target-file) given the source (--text-file).
  tokenize  --model <dir> --text-file <file>
            Prints {"input_ids", "tokens", "offsets", "special"} as JSON.

Common options:
  --no-special-tokens   do not add the tokenizer's special tokens (BOS, [CLS]…); they are added by default
  --kernels <path>      portable (default: plain loops accumulating in float64, the reference path),
                        wasm, onnx or auto (fastest available); env TE_KERNELS overrides
  --keep-weights <dir>  with onnx kernels: keep the converted weights of each model in <dir> (created if
                        missing; ~1× the checkpoint's size, 3 models kept), so later runs load them without
                        reading the checkpoint (GPT-2 small: ~5 s the first time, ~1.5 s after)
  -h, --help            show this help

Input text: the file is read as UTF-8 exactly as stored; nothing is trimmed, so a trailing newline is
part of the input (it becomes a token). Offsets are [start, end) in UTF-16 code units of that text;
special tokens added by the tokenizer get [0, 0].`;

class UsageError extends Error {}

type Flags = Record<string, string | boolean | undefined>;

function parse(argv: string[]): { command: string; flags: Flags } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string' }, 'text-file': { type: 'string' }, 'target-file': { type: 'string' }, out: { type: 'string' },
        'logits-positions': { type: 'string' }, 'max-new-tokens': { type: 'string' }, temperature: { type: 'string' },
        seed: { type: 'string' }, json: { type: 'boolean' }, 'stop-at-eos': { type: 'boolean' },
        'no-special-tokens': { type: 'boolean' }, kernels: { type: 'string' }, 'keep-weights': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument "${parsed.positionals[1]}"`);
  return { command: parsed.positionals[0] ?? '', flags: parsed.values };
}

function required(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

function readText(file: string, flag = 'text-file'): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function nonNegativeInt(flags: Flags, name: string, fallback?: number): number {
  const raw = flags[name];
  if (raw === undefined && fallback !== undefined) return fallback;
  const v = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v)) throw new UsageError(`--${name} must be a non-negative integer, got "${raw ?? ''}"`);
  return v;
}

function openModel(flags: Flags): Model {
  const dir = required(flags, 'model');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--model ${dir} is not a directory`);
  const kernels = (flags.kernels as string | undefined) ?? 'portable';
  if (!['portable', 'wasm', 'onnx', 'auto'].includes(kernels)) throw new UsageError(`--kernels must be portable, wasm, onnx or auto, got "${kernels}"`);
  const keep = flags['keep-weights'];
  if (keep !== undefined && (typeof keep !== 'string' || keep === '')) throw new UsageError('--keep-weights needs a folder');
  return loadModel(dir, { kernels: kernels as KernelPreference, packCache: keep === undefined ? undefined : path.resolve(keep) });
}

/** all | last | comma-separated positions (each must exist; order kept). */
export function parseLogitsPositions(spec: string | undefined, n: number): number[] {
  if (spec === undefined || spec === 'all') return Array.from({ length: n }, (_, i) => i);
  if (spec === 'last') return [n - 1];
  const parts = spec.split(',');
  return parts.map((p) => {
    const v = /^\d+$/.test(p.trim()) ? Number(p.trim()) : NaN;
    if (!Number.isSafeInteger(v) || v >= n) throw new UsageError(`--logits-positions: "${p}" is not a position in 0…${n - 1} (use all, last or i,j,k)`);
    return v;
  });
}

async function trace(flags: Flags): Promise<void> {
  const text = readText(required(flags, 'text-file'));
  const out = required(flags, 'out');
  const model = openModel(flags);
  const targetFile = flags['target-file'] as string | undefined;
  if (targetFile !== undefined && model.info.kind !== 'encoder-decoder') throw new UsageError(`--target-file only applies to encoder-decoder models, not ${model.info.architecture}`);
  const tokens = await model.tokenize(text, { addSpecialTokens: !flags['no-special-tokens'] });
  const opts = { patternPrecision: 'f32' as const };
  let run: AnalysisTraces;
  if (model.info.kind === 'encoder-decoder') {
    const target = targetFile === undefined ? '' : readText(targetFile, 'target-file');
    run = { kind: 'seq2seq', traces: model.traceSeq2SeqTokens(text, tokens, target, await model.targetTokens(target), opts) };
  } else {
    run = { kind: 'single', trace: model.traceTokens(text, tokens, opts) };
  }
  const n = run.kind === 'single' ? run.trace.n : run.traces.decoder.n;
  const { json, tensors } = exportTrace(model, run, parseLogitsPositions(flags['logits-positions'] as string | undefined, n));
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeSafetensors(`${out}.safetensors`, tensors);
  fs.writeFileSync(`${out}.json`, JSON.stringify({ model: { architecture: model.info.architecture, dir: path.resolve(model.info.dir) }, ...json }));
}

async function generate(flags: Flags): Promise<void> {
  const text = readText(required(flags, 'text-file'));
  const maxNewTokens = nonNegativeInt(flags, 'max-new-tokens');
  const temperature = flags.temperature === undefined ? 0 : Number(flags.temperature);
  if (!Number.isFinite(temperature) || temperature < 0) throw new UsageError(`--temperature must be a number ≥ 0, got "${String(flags.temperature)}"`);
  const seed = nonNegativeInt(flags, 'seed', 0);
  const targetFile = flags['target-file'] as string | undefined;
  const target = targetFile === undefined ? undefined : readText(targetFile, 'target-file');
  const model = openModel(flags);
  if (model.info.kind === 'encoder') throw new UsageError(`${model.info.architecture} is a masked-LM encoder and does not generate text; use trace`);
  const eos = model.config.eos_token_id;
  const result = await model.generate(text, {
    maxNewTokens, temperature, seed, addSpecialTokens: !flags['no-special-tokens'], target,
    stopIds: flags['stop-at-eos'] && eos !== undefined ? [eos] : [],
  });
  if (flags.json) process.stdout.write(`${JSON.stringify({ new_ids: result.newIds, new_text: result.newText })}\n`);
  else process.stdout.write(`${result.newText}\n`);
}

async function tokenize(flags: Flags): Promise<void> {
  const text = readText(required(flags, 'text-file'));
  const model = openModel(flags);
  const t = await model.tokenize(text, { addSpecialTokens: !flags['no-special-tokens'] });
  process.stdout.write(`${JSON.stringify({ input_ids: t.ids, tokens: t.tokens, offsets: t.offsets, special: t.special })}\n`);
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { command, flags } = parse(argv);
    if (flags.help || command === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    switch (command) {
      case 'trace': await trace(flags); return 0;
      case 'generate': await generate(flags); return 0;
      case 'tokenize': await tokenize(flags); return 0;
      case '': throw new UsageError('no command given (trace, generate or tokenize; --help for details)');
      default: throw new UsageError(`unknown command "${command}" (trace, generate or tokenize; --help for details)`);
    }
  } catch (e) {
    const msg = e instanceof UsageError ? `${e.message}; see --help`
      : isEngineError(e) ? `${e.code}: ${e.message}${e.hint ? ` ${e.hint}` : ''}`
        : e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${msg.replace(/\s*\n\s*/g, ' ')}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (typeof require !== 'undefined' && require.main === module) {
  void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
