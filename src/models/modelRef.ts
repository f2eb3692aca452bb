/**
 * Parsing of the `transformerExplorer.model` setting: a Hugging Face model id (`org/name`, optionally
 * `@revision`) or a local folder (absolute, `~/…`, or relative to the workspace).
 */
import os from 'node:os';
import path from 'node:path';
import { ModelStoreError } from './errors';

export type ModelRef =
  | { readonly kind: 'hub'; readonly repoId: string; readonly revision: string; readonly text: string }
  | { readonly kind: 'folder'; readonly path: string; readonly text: string };

export const DEFAULT_REVISION = 'main';
/** The Hub's own limit for `namespace/name` (huggingface_hub's validate_repo_id). */
export const MAX_REPO_ID_LENGTH = 96;
const MAX_REVISION_LENGTH = 255;
const SEGMENT = /^[A-Za-z0-9][\w.-]*$/;

/** Returns why `repoId` is not a valid Hub model id, or undefined when it is valid. */
export function repoIdProblem(repoId: string): string | undefined {
  if (repoId.length === 0) return 'the model id is empty';
  if (repoId.length > MAX_REPO_ID_LENGTH) return `the model id is longer than ${MAX_REPO_ID_LENGTH} characters`;
  const parts = repoId.split('/');
  if (parts.length > 2) return 'a model id has at most one "/" (organisation/name)';
  for (const part of parts) {
    if (part.length === 0) return 'the organisation and the name must not be empty';
    if (!SEGMENT.test(part)) {
      return `"${part}" may only contain letters, digits, "_", "-" and "." and must start with a letter or digit`;
    }
    if (part.endsWith('.') || part.endsWith('-')) return `"${part}" must not end with "." or "-"`;
  }
  if (repoId.includes('..')) return 'the model id must not contain ".."';
  if (repoId.includes('--')) return 'the model id must not contain "--"';
  return undefined;
}

/** Returns why `revision` is not a usable branch, tag or commit name, or undefined when it is. */
export function revisionProblem(revision: string): string | undefined {
  if (revision.length === 0) return 'the revision after "@" is empty';
  if (revision.length > MAX_REVISION_LENGTH) return 'the revision is too long';
  if (!/^[\w.\-/]+$/.test(revision)) return 'the revision may only contain letters, digits, "_", "-", "." and "/"';
  if (revision.includes('..') || revision.startsWith('/') || revision.endsWith('/') || revision.includes('//')) {
    return 'the revision must not contain "..", "//" or start/end with "/"';
  }
  return undefined;
}

export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

export function validateRepoId(repoId: string): void {
  const problem = repoIdProblem(repoId);
  if (problem) {
    throw new ModelStoreError('INVALID_REFERENCE', `"${repoId}" is not a valid Hugging Face model id: ${problem}.`,
      'Use the form "organisation/name" (for example "openai-community/gpt2"), or the path of a local model folder.');
  }
}

export function validateRevision(revision: string): void {
  const problem = revisionProblem(revision);
  if (problem) {
    throw new ModelStoreError('INVALID_REFERENCE', `"${revision}" is not a valid revision: ${problem}.`,
      'Use a branch or tag name (such as "main") or a 40-character commit hash.');
  }
}

export interface ParseContext {
  /** Folder that relative paths are resolved against (the first workspace folder); undefined without one. */
  readonly workspaceFolder?: string;
  readonly homeDir?: string;
}

function looksLikePath(text: string): boolean {
  return text.startsWith('/') || text.startsWith('~') || text.startsWith('./') || text.startsWith('../')
    || text === '.' || text === '..' || text.startsWith('.\\') || text.startsWith('..\\') || text.includes('\\')
    || /^[A-Za-z]:[\\/]/.test(text) || text.startsWith('file://');
}

/**
 * Parses a setting value. Anything that looks like a path is a folder; everything else must be a valid Hub id.
 * (A Hub-id-shaped value that is also an existing workspace folder is handled by resolveModel, which checks the
 * folder first, as transformers' `from_pretrained` does.)
 */
export function parseModelRef(value: string, ctx: ParseContext = {}): ModelRef {
  const text = value.trim();
  if (text.length === 0) {
    throw new ModelStoreError('INVALID_REFERENCE', 'No model is set.',
      'Set "transformerExplorer.model" to a Hugging Face id such as "openai-community/gpt2" or to a model folder.');
  }
  if (looksLikePath(text)) return { kind: 'folder', path: expandFolderPath(text, ctx), text };
  const at = text.indexOf('@');
  const repoId = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? DEFAULT_REVISION : text.slice(at + 1);
  validateRepoId(repoId);
  validateRevision(revision);
  return { kind: 'hub', repoId, revision, text };
}

export function expandFolderPath(text: string, ctx: ParseContext): string {
  let p = text.startsWith('file://') ? decodeURIComponent(new URL(text).pathname) : text;
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) p = path.join(ctx.homeDir ?? os.homedir(), p.slice(1));
  if (path.isAbsolute(p)) return path.normalize(p);
  if (!ctx.workspaceFolder) {
    throw new ModelStoreError('INVALID_REFERENCE', `"${text}" is a relative path, but no workspace folder is open.`,
      'Open a workspace folder or use an absolute path for the model folder.');
  }
  return path.resolve(ctx.workspaceFolder, p);
}
