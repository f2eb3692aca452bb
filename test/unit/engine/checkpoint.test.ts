import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError, isEngineError } from '../../../src/engine/errors';
import { openCheckpoint } from '../../../src/engine/checkpoint';
import { modelDir } from '../../support/fixtures';
import { f32Bytes, u16Bytes, writeSafetensorsFile, writeShardedCheckpoint, type RawTensor } from '../../support/safetensorsBuilder';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'te-checkpoint-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh model folder with the given files (string = text, RawTensor[] = safetensors). */
function folder(files: Record<string, string | RawTensor[]>): string {
  const dir = path.join(root, `m${n++}`);
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === 'string') fs.writeFileSync(path.join(dir, name), content);
    else writeSafetensorsFile(path.join(dir, name), content);
  }
  return dir;
}

function errorOf(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (isEngineError(e)) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

const CONFIG = JSON.stringify({ model_type: 'llama' });
const A: RawTensor = { name: 'a.weight', dtype: 'F32', shape: [2, 2], bytes: f32Bytes([1, 2, 3, 4]) };
const B: RawTensor = { name: 'b.weight', dtype: 'F16', shape: [3], bytes: u16Bytes([0x3c00, 0xc000, 0x3800]) };
const C: RawTensor = { name: 'c.bias', dtype: 'BF16', shape: [1, 2], bytes: u16Bytes([0x3f80, 0x4040]) };

describe('openCheckpoint on the fixtures', () => {
  it('loads stories260K: config, generation config, 47 tensors, shapes and data', () => {
    const ck = openCheckpoint(modelDir('stories260K'));
    try {
      expect(ck.config.model_type).toBe('llama');
      expect(ck.config.architectures).toEqual(['LlamaForCausalLM']);
      expect(ck.generationConfig).toBeDefined();
      expect(ck.names()).toHaveLength(47);
      expect(ck.has('model.norm.weight')).toBe(true);
      expect(ck.has('lm_head.weight')).toBe(false); // tied
      expect(ck.shape('model.layers.3.self_attn.v_proj.weight')).toEqual([32, 64]);
      expect(ck.read('model.embed_tokens.weight').length).toBe(512 * 64);
      const e = errorOf(() => ck.shape('lm_head.weight'));
      expect(e.code).toBe('BAD_CHECKPOINT');
      expect(e.message).toContain('lm_head.weight');
      expect(errorOf(() => ck.read('lm_head.weight')).code).toBe('BAD_CHECKPOINT');
    } finally {
      ck.close();
    }
  });

  it('loads every fixture model folder that has weights', () => {
    const expected: Record<string, number> = { 'tiny-random-gpt2': 2_509_536, 'tiny-random-bert': 1_544_073, 'tiny-random-marian': 2_811_296, 'tiny-random-t5': 1_622_848 };
    for (const [model, params] of Object.entries(expected)) {
      const ck = openCheckpoint(modelDir(model));
      const total = ck.names().reduce((s, t) => s + ck.shape(t).reduce((a, b) => a * b, 1), 0);
      // Marian's stored tensors include the sinusoid tables and final_logits_bias, which SOURCE.md counts too.
      expect(total).toBe(params);
      ck.close();
    }
  });
});

describe('sharded checkpoints', () => {
  it('reads tensors of any float dtype across shards', () => {
    const dir = folder({ 'config.json': CONFIG });
    writeShardedCheckpoint(dir, [[A, C], [B]]);
    const ck = openCheckpoint(dir);
    expect(ck.names().sort()).toEqual(['a.weight', 'b.weight', 'c.bias']);
    expect([...ck.read('a.weight')]).toEqual([1, 2, 3, 4]);
    expect([...ck.read('b.weight')]).toEqual([1, -2, 0.5]);
    expect([...ck.read('c.bias')]).toEqual([1, 3]);
    expect(ck.shape('c.bias')).toEqual([1, 2]);
    expect(ck.info('b.weight')?.dtype).toBe('F16');
    ck.close();
  });

  it('a missing shard is MISSING_FILE naming it', () => {
    const dir = folder({ 'config.json': CONFIG });
    const [first] = writeShardedCheckpoint(dir, [[A], [B]]);
    fs.rmSync(path.join(dir, first!));
    const e = errorOf(() => openCheckpoint(dir));
    expect(e.code).toBe('MISSING_FILE');
    expect(e.message).toContain(first!);
  });

  it('a tensor stored in two shards, or in another shard than the index says, is BAD_CHECKPOINT', () => {
    const twice = folder({ 'config.json': CONFIG });
    writeShardedCheckpoint(twice, [[A, B], [A]]);
    const e = errorOf(() => openCheckpoint(twice));
    expect(e.code).toBe('BAD_CHECKPOINT');
    expect(e.message).toContain('two shards');

    const moved = folder({ 'config.json': CONFIG });
    const names = writeShardedCheckpoint(moved, [[A], [B]]);
    fs.writeFileSync(path.join(moved, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': names[1], 'b.weight': names[0] } }));
    expect(errorOf(() => openCheckpoint(moved)).message).toMatch(/"a\.weight" is in model-00002.*but it is in model-00001/);

    const ghost = folder({ 'config.json': CONFIG });
    writeShardedCheckpoint(ghost, [[A]], { 'a.weight': 'model-00001-of-00001.safetensors', 'ghost.weight': 'model-00001-of-00001.safetensors' });
    expect(errorOf(() => openCheckpoint(ghost)).message).toContain('ghost.weight');
  });

  it('rejects an index without weight_map, with non-file shard names, or that is not JSON', () => {
    for (const index of ['{"metadata":{}}', '{"weight_map":[]}', '{"weight_map":{"a.weight":"../x.safetensors"}}', '{"weight_map":{"a.weight":"/etc/passwd"}}', '{"weight_map":{"a.weight":3}}', '{"weight_map":{}}', '{weight_map']) {
      const dir = folder({ 'config.json': CONFIG, 'model.safetensors.index.json': index });
      expect(errorOf(() => openCheckpoint(dir)).code).toBe('BAD_CHECKPOINT');
    }
  });

  it('prefers model.safetensors over an index, like transformers', () => {
    const dir = folder({ 'config.json': CONFIG, 'model.safetensors': [A], 'model.safetensors.index.json': '{"weight_map":{"zzz":"missing.safetensors"}}' });
    const ck = openCheckpoint(dir);
    expect(ck.names()).toEqual(['a.weight']);
    ck.close();
  });
});

describe('config and missing files', () => {
  it('missing folder or config.json is MISSING_FILE with the path', () => {
    expect(errorOf(() => openCheckpoint(path.join(root, 'nope'))).code).toBe('MISSING_FILE');
    const dir = folder({ 'model.safetensors': [A] });
    const e = errorOf(() => openCheckpoint(dir));
    expect(e.code).toBe('MISSING_FILE');
    expect(e.message).toContain(path.join(dir, 'config.json'));
  });

  it('config.json that is not JSON is BAD_CONFIG with line, column and position', () => {
    const dir = folder({ 'config.json': '{\n  "model_type": "gpt2",\n  "n_layer": x\n}', 'model.safetensors': [A] });
    const e = errorOf(() => openCheckpoint(dir));
    expect(e.code).toBe('BAD_CONFIG');
    expect(e.message).toContain('line 3, column 14 (position 39)');
  });

  it('config.json holding an array, null or a number is BAD_CONFIG', () => {
    for (const text of ['[]', 'null', '42', '"llama"']) {
      const e = errorOf(() => openCheckpoint(folder({ 'config.json': text, 'model.safetensors': [A] })));
      expect(e.code).toBe('BAD_CONFIG');
      expect(e.message).toContain('JSON object');
    }
  });

  it('a malformed generation_config.json is BAD_CONFIG; an absent one is fine', () => {
    expect(errorOf(() => openCheckpoint(folder({ 'config.json': CONFIG, 'generation_config.json': '{', 'model.safetensors': [A] }))).code).toBe('BAD_CONFIG');
    const ck = openCheckpoint(folder({ 'config.json': CONFIG, 'model.safetensors': [A] }));
    expect(ck.generationConfig).toBeUndefined();
    ck.close();
  });

  it('only pytorch_model.bin is MISSING_FILE with a hint that only safetensors is supported', () => {
    const e = errorOf(() => openCheckpoint(folder({ 'config.json': CONFIG, 'pytorch_model.bin': 'pickle' })));
    expect(e.code).toBe('MISSING_FILE');
    expect(e.message).toContain('pytorch_model.bin');
    expect(e.hint).toMatch(/only safetensors/i);
  });

  it('a corrupt model.safetensors surfaces as BAD_SAFETENSORS naming the file', () => {
    const dir = folder({ 'config.json': CONFIG, 'model.safetensors': 'garbage!garbage!' });
    const e = errorOf(() => openCheckpoint(dir));
    expect(e.code).toBe('BAD_SAFETENSORS');
    expect(e.message).toContain(path.join(dir, 'model.safetensors'));
  });
});
