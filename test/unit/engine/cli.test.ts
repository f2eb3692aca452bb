// The built CLI (`npm run build` → node dist/cli.js) against the fixtures' references, and its error handling.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tryKernels } from '../../../src/engine/kernels/select';
import { SafetensorsFile } from '../../../src/engine/safetensors';
import { loadCases, modelDir, readReferenceTensors, REFERENCE_MODELS, type ReferenceCase, type TopToken } from '../../support/fixtures';
import { attnRows, checkClose, checkLogits, checkTop5, DiffTable, ref } from './forwardReference';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
let tmp: string;
const diffs = new DiffTable();

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'pipe' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-cli-'));
}, 120_000);
afterAll(() => {
  console.log(diffs.format('through node dist/cli.js'));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function writeText(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text, 'utf8');
  return file;
}

function readOutput(prefix: string): { json: Record<string, unknown>; tensors: Map<string, { shape: number[]; data: Float32Array }> } {
  const json = JSON.parse(fs.readFileSync(`${prefix}.json`, 'utf8')) as Record<string, unknown>;
  const f = SafetensorsFile.open(`${prefix}.safetensors`);
  try {
    const tensors = new Map([...f.tensors].map(([name, info]) => [name, { shape: [...info.shape], data: f.read(name) }]));
    return { json, tensors };
  } finally {
    f.close();
  }
}

function traceCase(model: string, c: ReferenceCase): void {
  const prefix = path.join(tmp, `${model}-${c.name}`);
  const args = ['trace', '--model', modelDir(model), '--text-file', writeText(`${model}-${c.name}.txt`, c.text), '--out', prefix, '--logits-positions', c.logits_positions.join(',')];
  if (c.target_text !== undefined) args.push('--target-file', writeText(`${model}-${c.name}.target.txt`, c.target_text));
  const r = run(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const { json, tensors } = readOutput(prefix);
  const want = readReferenceTensors(model, c.name);
  expect(json.input_ids).toEqual(c.input_ids);
  expect(json.tokens).toEqual(c.tokens);
  expect(json.offsets).toEqual(c.offsets);
  expect(json.logits_positions).toEqual(c.logits_positions);
  if (c.decoder_input_ids) {
    expect(json.decoder_input_ids).toEqual(c.decoder_input_ids);
    expect(json.decoder_tokens).toEqual(c.decoder_tokens);
  }
  // every reference tensor is present with the same shape (attention: all query rows; reference may keep fewer)
  for (const [name, t] of want) {
    const got = tensors.get(name);
    expect(got, name).toBeDefined();
    if (name === 'logits' || name.includes('resid')) expect(got!.shape, name).toEqual(t.shape);
    if (name === 'logits') checkLogits(diffs, model, got!.data, t, `${c.name} logits`);
    else if (name.includes('resid')) checkClose(diffs, model, 'resid', got!.data, t, `${c.name} ${name}`);
    else {
      const [H, n, nk] = got!.shape;
      checkClose(diffs, model, 'attn', attnRows(got!.data, H, n, nk, name.includes('cross') ? null : c.attn_query_positions), ref(want, name), `${c.name} ${name}`);
    }
  }
  expect(tensors.size).toBe(want.size);
  if (c.top_next) {
    const top = json.top_next as TopToken[][];
    expect(top).toHaveLength(c.top_next.length);
    c.top_next.forEach((w, p) => checkTop5(diffs, model, top[p], w, `${c.name} top_next[${p}]`));
  }
  if (c.top_mask) {
    const top = json.top_mask as { position: number; top5: TopToken[] }[];
    expect(top.map((x) => x.position)).toEqual(c.top_mask.map((x) => x.position));
    c.top_mask.forEach((w, i) => checkTop5(diffs, model, top[i].top5, w.top5, `${c.name} top_mask@${w.position}`));
  }
}

describe.each([...REFERENCE_MODELS])('cli trace: %s', (model) => {
  it.each(loadCases(model).map((c) => [c.name, c] as const))('case %s matches the reference', (_, c) => traceCase(model, c));
});

describe('cli generate', () => {
  it('reproduces the greedy reference continuation of every generate_greedy case', () => {
    for (const c of loadCases('stories260K').filter((x) => x.generate_greedy)) {
      const file = writeText(`gen-${c.name}.txt`, c.text);
      const n = String(c.generate_greedy!.new_ids.length);
      const r = run(['generate', '--model', modelDir('stories260K'), '--text-file', file, '--max-new-tokens', n, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(JSON.parse(r.stdout)).toEqual({ new_ids: c.generate_greedy!.new_ids, new_text: c.generate_greedy!.new_text });
      const plain = run(['generate', '--model', modelDir('stories260K'), '--text-file', file, '--max-new-tokens', n]);
      expect(plain.stdout).toBe(`${c.generate_greedy!.new_text}\n`);
    }
  });
  it('samples reproducibly with --temperature and --seed', () => {
    const file = writeText('gen-sample.txt', 'Once upon a time');
    const args = ['generate', '--model', modelDir('stories260K'), '--text-file', file, '--max-new-tokens', '12', '--json', '--temperature', '1.0'];
    const a = JSON.parse(run([...args, '--seed', '3']).stdout);
    expect(JSON.parse(run([...args, '--seed', '3']).stdout)).toEqual(a);
    expect(JSON.parse(run([...args, '--seed', '4']).stdout).new_ids).not.toEqual(a.new_ids);
    expect(a.new_ids).toHaveLength(12);
  });
  it('generates for encoder-decoders (greedy target continuation)', () => {
    const r = run(['generate', '--model', modelDir('tiny-random-t5'), '--text-file', writeText('t5src.txt', 'translate English to French: Hello'), '--max-new-tokens', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).new_ids).toHaveLength(4);
  });
});

describe('cli trace options', () => {
  it('defaults to logits at all positions, and accepts last', () => {
    const c = loadCases('tiny-random-gpt2')[0];
    const file = writeText('opt.txt', c.text);
    expect(run(['trace', '--model', modelDir('tiny-random-gpt2'), '--text-file', file, '--out', path.join(tmp, 'all')]).code).toBe(0);
    const all = readOutput(path.join(tmp, 'all'));
    expect(all.tensors.get('logits')!.shape).toEqual([c.input_ids.length, 50257]);
    expect(all.json.logits_positions).toEqual(c.input_ids.map((_, i) => i));
    expect(run(['trace', '--model', modelDir('tiny-random-gpt2'), '--text-file', file, '--out', path.join(tmp, 'last'), '--logits-positions', 'last']).code).toBe(0);
    const last = readOutput(path.join(tmp, 'last'));
    expect(last.tensors.get('logits')!.data).toEqual(all.tensors.get('logits')!.data.slice(-50257));
  });
  it('tokenize prints ids, tokens and offsets', () => {
    const c = loadCases('stories260K')[2];
    const r = run(['tokenize', '--model', modelDir('stories260K'), '--text-file', writeText('tok.txt', c.text)]);
    expect(JSON.parse(r.stdout)).toMatchObject({ input_ids: c.input_ids, tokens: c.tokens, offsets: c.offsets });
  });
  it('reads the text file exactly (a trailing newline is part of the input)', () => {
    const r = run(['tokenize', '--model', modelDir('tiny-random-gpt2'), '--text-file', writeText('nl.txt', 'Hello\n')]);
    expect(JSON.parse(r.stdout).tokens).toEqual(['Hello', 'Ċ']);
  });
});

// Kept weights need the onnx path: skipped where it cannot load, or when TE_KERNELS forces another path on the CLI.
const onnxProbe = tryKernels('onnx', 1);
if (typeof onnxProbe !== 'string') onnxProbe.dispose?.();
const onnxHere = typeof onnxProbe !== 'string' && [undefined, 'onnx', 'auto'].includes(process.env.TE_KERNELS);
describe.skipIf(!onnxHere)('cli --keep-weights', () => {
  it('keeps the converted weights on the first run and opens them on the next, with the same output', () => {
    const keep = path.join(tmp, 'kept');
    const text = writeText('keep.txt', 'The quick brown fox jumps over the lazy dog.');
    const outs = [1, 2].map((i) => {
      const prefix = path.join(tmp, `keep-${i}`);
      const r = run(['trace', '--model', modelDir('tiny-random-gpt2'), '--text-file', text, '--out', prefix, '--kernels', 'onnx', '--keep-weights', keep]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return readOutput(prefix);
    });
    const [folder] = fs.readdirSync(keep);
    // tiny-random-gpt2 on onnx: its blocks run fused, kept as two saved halves each
    const layers = JSON.parse(fs.readFileSync(path.join(modelDir('tiny-random-gpt2'), 'config.json'), 'utf8')).n_layer as number;
    const halves = Array.from({ length: layers }, (_, l) => [`fused.blocks.${l}.in.probe`, `fused.blocks.${l}.out.probe`]).flat();
    expect(fs.readdirSync(path.join(keep, folder)).filter((f) => f.endsWith('.probe')).sort()).toEqual([...halves, 'unembed.W_U.probe'].sort());
    expect(outs[1].json).toEqual(outs[0].json);
    for (const [name, t] of outs[0].tensors) expect(Array.from(outs[1].tensors.get(name)?.data ?? []), name).toEqual(Array.from(t.data));
  });
});

describe('cli errors: non-zero exit and one clear line on stderr', () => {
  const oneLine = (s: string) => expect(s.trimEnd().split('\n')).toHaveLength(1);
  it('missing text file', () => {
    const r = run(['trace', '--model', modelDir('stories260K'), '--text-file', path.join(tmp, 'nope.txt'), '--out', path.join(tmp, 'x')]);
    expect(r.code).not.toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^error: cannot read --text-file .*nope\.txt: ENOENT/);
  });
  it('bad flag, missing flag, bad positions, unknown command', () => {
    const file = writeText('e.txt', 'hi');
    for (const [args, re] of [
      [['trace', '--bogus'], /Unknown option '--bogus'/],
      [['trace', '--text-file', file, '--out', 'x'], /--model is required/],
      [['trace', '--model', modelDir('stories260K'), '--text-file', file, '--out', path.join(tmp, 'p'), '--logits-positions', '1,99'], /--logits-positions: "99" is not a position/],
      [['generate', '--model', modelDir('stories260K'), '--text-file', file, '--max-new-tokens', 'many'], /--max-new-tokens must be a non-negative integer/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ] as const) {
      const r = run([...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(re);
    }
  });
  it('unsupported model', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'mamba-'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['MambaForCausalLM'], model_type: 'mamba' }));
    fs.copyFileSync(path.join(modelDir('tiny-random-gpt2'), 'model.safetensors'), path.join(dir, 'model.safetensors'));
    const r = run(['trace', '--model', dir, '--text-file', writeText('m.txt', 'hi'), '--out', path.join(tmp, 'm')]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^error: UNSUPPORTED_MODEL: not supported yet: MambaForCausalLM; supported: GPT2LMHeadModel, LlamaForCausalLM/);
  });
  it('--help', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: node dist\/cli\.js <command>/);
    expect(r.stdout).toMatch(/trailing newline is\s+part of the input/);
  });
});
