/**
 * Writes a GPT-2-small-shaped checkpoint with random weights (speed does not depend on the values): HF tensor
 * names and config.json of GPT2LMHeadModel, F32 safetensors (~500 MB), and the real GPT-2 tokenizer from the
 * shared fixtures. Tensors are streamed to disk one at a time, so writing needs no 500 MB buffer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const GPT2_SMALL = { n_layer: 12, n_embd: 768, n_head: 12, n_inner: 3072, vocab_size: 50257, n_positions: 1024 } as const;
export type Gpt2Shape = { readonly [K in keyof typeof GPT2_SMALL]: number };

interface TensorSpec { readonly name: string; readonly shape: number[]; readonly init: 'normal' | 'ones' | 'zeros' }

export function gpt2Tensors(shape: Gpt2Shape = GPT2_SMALL): TensorSpec[] {
  const { n_layer: L, n_embd: d, n_inner: f, vocab_size: V, n_positions: P } = shape;
  const t: TensorSpec[] = [
    { name: 'transformer.wte.weight', shape: [V, d], init: 'normal' },
    { name: 'transformer.wpe.weight', shape: [P, d], init: 'normal' },
  ];
  for (let l = 0; l < L; l++) {
    const h = `transformer.h.${l}`;
    t.push(
      { name: `${h}.ln_1.weight`, shape: [d], init: 'ones' }, { name: `${h}.ln_1.bias`, shape: [d], init: 'zeros' },
      { name: `${h}.attn.c_attn.weight`, shape: [d, 3 * d], init: 'normal' }, { name: `${h}.attn.c_attn.bias`, shape: [3 * d], init: 'normal' },
      { name: `${h}.attn.c_proj.weight`, shape: [d, d], init: 'normal' }, { name: `${h}.attn.c_proj.bias`, shape: [d], init: 'normal' },
      { name: `${h}.ln_2.weight`, shape: [d], init: 'ones' }, { name: `${h}.ln_2.bias`, shape: [d], init: 'zeros' },
      { name: `${h}.mlp.c_fc.weight`, shape: [d, f], init: 'normal' }, { name: `${h}.mlp.c_fc.bias`, shape: [f], init: 'normal' },
      { name: `${h}.mlp.c_proj.weight`, shape: [f, d], init: 'normal' }, { name: `${h}.mlp.c_proj.bias`, shape: [d], init: 'normal' },
    );
  }
  t.push({ name: 'transformer.ln_f.weight', shape: [d], init: 'ones' }, { name: 'transformer.ln_f.bias', shape: [d], init: 'zeros' });
  return t;
}

/** Deterministic values with GPT-2's init scale (std 0.02, here uniform on ±0.0346). */
function fill(a: Float32Array, init: TensorSpec['init'], seed: number): void {
  if (init === 'ones') a.fill(1);
  else if (init === 'zeros') a.fill(0);
  else {
    let s = seed >>> 0;
    const scale = 0.02 * Math.sqrt(3) * 2;
    for (let i = 0; i < a.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      a[i] = (s / 2 ** 32 - 0.5) * scale;
    }
  }
}

export function gpt2Config(shape: Gpt2Shape = GPT2_SMALL): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', activation_function: 'gelu_new',
    ...shape, n_ctx: shape.n_positions, layer_norm_epsilon: 1e-5, bos_token_id: 50256, eos_token_id: 50256,
    scale_attn_weights: true, scale_attn_by_inverse_layer_idx: false, reorder_and_upcast_attn: false,
    tie_word_embeddings: true, torch_dtype: 'float32', use_cache: true,
  };
}

/** Writes `data` unless the file already holds it (an unchanged folder keeps its modification times). */
function writeIfChanged(file: string, data: Buffer | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (fs.existsSync(file) && fs.readFileSync(file).equals(bytes)) return;
  fs.writeFileSync(file, bytes);
}

/** Creates (or reuses, when complete) the model folder; returns the bytes of model.safetensors. */
export function writeGpt2Small(dir: string, tokenizerDir: string): number {
  return writeGpt2(dir, tokenizerDir, GPT2_SMALL);
}

/** A GPT-2 of any shape (random weights, the real GPT-2 tokenizer): the bench's model, or a small one for tests. */
export function writeGpt2(dir: string, tokenizerDir: string, shape: Gpt2Shape): number {
  fs.mkdirSync(dir, { recursive: true });
  const weights = path.join(dir, 'model.safetensors');
  const stamp = path.join(dir, '.complete');
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    if (fs.existsSync(path.join(tokenizerDir, f))) writeIfChanged(path.join(dir, f), fs.readFileSync(path.join(tokenizerDir, f)));
  }
  const config = JSON.stringify(gpt2Config(shape), null, 2);
  if (fs.existsSync(stamp) && fs.existsSync(weights) && fs.readFileSync(path.join(dir, 'config.json'), 'utf8') === config) return fs.statSync(weights).size;
  fs.writeFileSync(path.join(dir, 'config.json'), config);
  const specs = gpt2Tensors(shape);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const s of specs) {
    const bytes = s.shape.reduce((a, b) => a * b, 1) * 4;
    header[s.name] = { dtype: 'F32', shape: s.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const fd = fs.openSync(weights, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    fs.writeSync(fd, len);
    fs.writeSync(fd, Buffer.from(json, 'utf8'));
    specs.forEach((s, i) => {
      const a = new Float32Array(s.shape.reduce((x, y) => x * y, 1));
      fill(a, s.init, 1000 + i);
      fs.writeSync(fd, new Uint8Array(a.buffer));
    });
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(stamp, '');
  return fs.statSync(weights).size;
}
