/** Builds Hugging Face cache layouts in temp folders for tests (blobs + relative symlinks, or plain copies). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `te-${prefix}-`));
}

export type FileMap = Record<string, string | Buffer>;

/** A minimal usable model: JSON config, a tokenizer.json and a small fake safetensors file. */
export function minimalModelFiles(arch = 'GPT2LMHeadModel', weightBytes = 1000): FileMap {
  return {
    'config.json': JSON.stringify({ architectures: [arch], model_type: arch.startsWith('GPT2') ? 'gpt2' : 'llama' }),
    'tokenizer.json': '{"version":"1.0"}',
    'model.safetensors': Buffer.alloc(weightBytes, 7),
  };
}

export function writeFolder(dir: string, files: FileMap): void {
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, ...name.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

export interface CacheRepoOptions {
  readonly revision?: string;
  readonly commit?: string;
  /** false = copies instead of symlinks (huggingface_hub on Windows without developer mode). */
  readonly symlinks?: boolean;
}

/** Writes `models--org--name/{blobs,snapshots/<commit>,refs/<revision>}` under `root`; returns the snapshot dir. */
export function makeCacheRepo(root: string, repoId: string, files: FileMap, opts: CacheRepoOptions = {}): string {
  const commit = opts.commit ?? createHash('sha1').update(repoId + JSON.stringify(Object.keys(files))).digest('hex');
  const repo = path.join(root, `models--${repoId.split('/').join('--')}`);
  const snap = path.join(repo, 'snapshots', commit);
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const etag = createHash('sha256').update(data).digest('hex');
    const blob = path.join(repo, 'blobs', etag);
    fs.mkdirSync(path.dirname(blob), { recursive: true });
    fs.writeFileSync(blob, data);
    const target = path.join(snap, ...name.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (opts.symlinks === false) fs.copyFileSync(blob, target);
    else fs.symlinkSync(path.relative(path.dirname(target), blob), target);
  }
  const revision = opts.revision ?? 'main';
  if (!/^[0-9a-f]{40}$/.test(revision)) {
    const ref = path.join(repo, 'refs', ...revision.split('/'));
    fs.mkdirSync(path.dirname(ref), { recursive: true });
    fs.writeFileSync(ref, commit);
  }
  return snap;
}
