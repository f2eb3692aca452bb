/**
 * A Hugging Face checkpoint folder: config.json (+ generation_config.json) and safetensors weights, either one
 * `model.safetensors` or shards listed by `model.safetensors.index.json`. Tensors are read lazily, one at a time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from './errors';
import { fileExists, readJsonObject } from './files';
import { SafetensorsFile, type TensorInfo } from './safetensors';

export interface Checkpoint {
  readonly dir: string;
  /** parsed config.json (validated to be a JSON object) */
  readonly config: Record<string, unknown>;
  readonly generationConfig?: Record<string, unknown>;
  /** all tensor names across shards */
  names(): string[];
  has(name: string): boolean;
  /** throws BAD_CHECKPOINT naming the tensor if absent */
  shape(name: string): number[];
  /** row-major Float32 copy of one tensor (into the start of `into` when given) */
  read(name: string, into?: Float32Array): Float32Array;
  /** dtype, shape and location of one tensor (undefined if absent) */
  info(name: string): TensorInfo | undefined;
  close(): void;
}

export const SINGLE_WEIGHTS = 'model.safetensors';
export const SHARD_INDEX = 'model.safetensors.index.json';

/** Weight formats we recognise but do not load (they need pickle/other runtimes). */
const OTHER_WEIGHTS = /^(pytorch_model.*\.bin|.*\.pt|.*\.pth|tf_model\.h5|flax_model\.msgpack|.*\.gguf|.*\.onnx)$/;

export function openCheckpoint(dir: string): Checkpoint {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new EngineError('MISSING_FILE', `Model folder not found: ${dir}`);
  const config = readJsonObject(path.join(dir, 'config.json'), 'BAD_CONFIG', 'A Hugging Face model folder needs its config.json.');
  const genPath = path.join(dir, 'generation_config.json');
  const generationConfig = fileExists(genPath) ? readJsonObject(genPath, 'BAD_CONFIG') : undefined;
  const files = openWeights(dir);
  return new ShardedCheckpoint(dir, config, generationConfig, files);
}

/** Prefers model.safetensors over an index, as transformers does. */
function openWeights(dir: string): SafetensorsFile[] {
  const single = path.join(dir, SINGLE_WEIGHTS);
  if (fileExists(single)) return [SafetensorsFile.open(single)];
  const indexPath = path.join(dir, SHARD_INDEX);
  if (fileExists(indexPath)) return openShards(dir, indexPath);
  const others = fs.readdirSync(dir).filter((f) => OTHER_WEIGHTS.test(f));
  throw new EngineError(
    'MISSING_FILE',
    `No ${SINGLE_WEIGHTS} or ${SHARD_INDEX} in ${dir}${others.length ? ` (found ${others.slice(0, 3).join(', ')})` : ''}.`,
    'Only safetensors weights are supported. Use a repository revision that ships model.safetensors, or convert the weights with transformers (save_pretrained(..., safe_serialization=True)).',
  );
}

function openShards(dir: string, indexPath: string): SafetensorsFile[] {
  const index = readJsonObject(indexPath, 'BAD_CHECKPOINT');
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new EngineError('BAD_CHECKPOINT', `${indexPath}: "weight_map" must be an object of tensor name → shard file.`);
  const wanted = new Map<string, string>(); // tensor → shard
  for (const [tensor, shard] of Object.entries(map as Record<string, unknown>)) {
    // Shards must be plain file names in this folder: an index must not point the loader anywhere else.
    if (typeof shard !== 'string' || shard === '' || shard !== path.basename(shard) || shard === '..' || shard.includes('\\')) {
      throw new EngineError('BAD_CHECKPOINT', `${indexPath}: tensor "${tensor}" maps to ${JSON.stringify(shard)}, which is not a file name in the model folder.`);
    }
    wanted.set(tensor, shard);
  }
  const shardNames = [...new Set(wanted.values())].sort();
  if (shardNames.length === 0) throw new EngineError('BAD_CHECKPOINT', `${indexPath}: "weight_map" lists no tensors.`);
  for (const s of shardNames) {
    if (!fileExists(path.join(dir, s))) throw new EngineError('MISSING_FILE', `Shard ${s} listed in ${indexPath} is missing from ${dir}.`, 'The download may be incomplete; download the model again.');
  }
  const files: SafetensorsFile[] = [];
  try {
    for (const s of shardNames) files.push(SafetensorsFile.open(path.join(dir, s)));
    const owner = new Map<string, string>();
    for (const f of files) {
      for (const t of f.tensors.keys()) {
        const prev = owner.get(t);
        if (prev !== undefined) throw new EngineError('BAD_CHECKPOINT', `Tensor "${t}" is stored in two shards: ${prev} and ${path.basename(f.path)}.`);
        owner.set(t, path.basename(f.path));
      }
    }
    for (const [t, s] of wanted) {
      if (owner.get(t) !== s) throw new EngineError('BAD_CHECKPOINT', `${indexPath} says tensor "${t}" is in ${s}, but ${owner.has(t) ? `it is in ${owner.get(t)}` : 'no shard contains it'}.`);
    }
    return files;
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
}

class ShardedCheckpoint implements Checkpoint {
  private readonly where = new Map<string, SafetensorsFile>();

  constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
    readonly generationConfig: Record<string, unknown> | undefined,
    private readonly files: SafetensorsFile[],
  ) {
    for (const f of files) for (const t of f.tensors.keys()) this.where.set(t, f);
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo | undefined {
    return this.where.get(name)?.tensors.get(name);
  }

  shape(name: string): number[] {
    return [...this.file(name).tensors.get(name)!.shape];
  }

  read(name: string, into?: Float32Array): Float32Array {
    return this.file(name).read(name, into);
  }

  close(): void {
    for (const f of this.files) f.close();
  }

  private file(name: string): SafetensorsFile {
    const f = this.where.get(name);
    if (!f) throw new EngineError('BAD_CHECKPOINT', `Tensor "${name}" is not in the checkpoint at ${this.dir}.`);
    return f;
  }
}
