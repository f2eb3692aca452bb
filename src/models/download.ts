/**
 * Downloads a model from the Hub into OUR storage (never the shared HF cache, so other tools are never
 * affected), using the same layout as the HF cache so resolution and listing treat both alike:
 *
 *   <storageDir>/models--org--name/refs/<revision>                commit hash, written last
 *   <storageDir>/models--org--name/snapshots/<commit>/<file>      regular files (no blobs/symlinks)
 *   <storageDir>/models--org--name/.staging/<commit>/<file>[.incomplete]   work in progress
 *
 * Each file streams into `<file>.incomplete` inside the staging folder, is checked (size; sha256 for LFS files
 * as reported by X-Linked-Etag / the API; git blob sha1 for small files when known) and renamed. Only when every
 * file is verified is the staging folder renamed to snapshots/<commit> and the ref written, so a failed,
 * cancelled or corrupt download never looks like an installed model.
 *
 * Interrupted transfers resume with `Range: bytes=N-` (206 + matching Content-Range; a 200 answer restarts the
 * file cleanly). On cancellation or a checksum/size failure the staging folder is deleted; after a network or
 * server failure that outlasted the retries, verified files and `.incomplete` partials stay in `.staging` so
 * the next attempt resumes them (removeDownloadedModel deletes them too).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ModelStoreError } from './errors';
import { repoDir, snapshotFor } from './hfCache';
import { cancelledError, header, normalizeEtag, RetryableError, type AgentFactory } from './http';
import { fileUrl, HttpStatusError, HubClient, type RepoSibling, type TokenSource } from './hubClient';
import { checkModelFolder, shardsFromIndex, WEIGHTS_INDEX } from './modelFolder';
import { DEFAULT_REVISION, isCommitHash, validateRepoId, validateRevision } from './modelRef';
import { planFiles, shardSiblings } from './filePlan';

export interface DownloadProgress {
  readonly repoId: string;
  readonly file: string;
  /** 1-based index of the current file and the number of files (grows once shards are known). */
  readonly fileIndex: number;
  readonly fileCount: number;
  readonly fileBytesDone: number;
  readonly fileBytesTotal?: number;
  readonly bytesDone: number;
  /** Total of all planned files when the Hub reported every size. */
  readonly bytesTotal?: number;
  /** Transfer speed over the last ~3 s, bytes/s (bytes already on disk from an earlier attempt excluded). */
  readonly bytesPerSecond: number;
}

export interface DownloadOptions {
  readonly repoId: string;
  readonly revision?: string;
  /** Root of our model storage, e.g. `<globalStorage>/hub`. */
  readonly storageDir: string;
  /** Already resolved (see resolveEndpoint). */
  readonly endpoint: string;
  readonly token?: TokenSource;
  readonly agentFactory?: AgentFactory;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Called before each retry; for the output channel (never receives headers or tokens). */
  readonly onRetry?: (what: string, attempt: number, why: string) => void;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly retryBaseDelayMs?: number;
  /** Minimum ms between progress events (default 100); the last event of each file is always sent. */
  readonly progressIntervalMs?: number;
}

export interface DownloadedFile {
  readonly path: string;
  readonly size: number;
  /** sha256 of the content (computed for every file; checked against the Hub for LFS files). */
  readonly sha256: string;
  readonly lfs: boolean;
}

export interface DownloadResult {
  readonly repoId: string;
  readonly revision: string;
  readonly commit: string;
  readonly dir: string;
  readonly files: readonly DownloadedFile[];
  /** True when this commit was already complete in storage; nothing was downloaded. */
  readonly alreadyInstalled: boolean;
  /** Bytes received over the network in this call. */
  readonly bytesTransferred: number;
  /** Number of requests that resumed a partial file with a Range header. */
  readonly resumedRequests: number;
}

const active = new Set<string>();
/** An attempt that kept at least this many new bytes before failing does not use up a retry. */
const PROGRESS_FOR_FREE_RETRY = 1024 * 1024;
const SPEED_WINDOW_MS = 3000;

/** Whether this process is downloading `repoId` into `storageDir` right now. */
export function isDownloading(storageDir: string, repoId: string): boolean {
  return active.has(`${path.resolve(storageDir)}|${repoId}`);
}

function gitBlobSha1(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

async function sizeOf(p: string): Promise<number | undefined> {
  try { return (await fsp.stat(p)).size; } catch { return undefined; }
}

async function hashFile(p: string, algo: 'sha256'): Promise<ReturnType<typeof createHash>> {
  const h = createHash(algo);
  for await (const chunk of fs.createReadStream(p) as AsyncIterable<Buffer>) h.update(chunk);
  return h;
}

async function writeAtomic(file: string, content: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, content);
  await fsp.rename(tmp, file);
}

class Downloader {
  bytesTransferred = 0;
  resumedRequests = 0;
  private bytesVerified = 0;
  private lastEmit = 0;
  /** (time, bytesTransferred) samples of the last few seconds, for the speed shown to the user. */
  private readonly samples: { t: number; bytes: number }[] = [{ t: Date.now(), bytes: 0 }];

  constructor(readonly o: DownloadOptions, readonly hub: HubClient, readonly commit: string, readonly staging: string) {}

  fileCount = 0;
  bytesTotal: number | undefined;

  private emit(file: string, index: number, done: number, total: number | undefined, force: boolean): void {
    if (!this.o.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < (this.o.progressIntervalMs ?? 100)) return;
    this.lastEmit = now;
    this.samples.push({ t: now, bytes: this.bytesTransferred });
    while (this.samples.length > 2 && now - this.samples[1]!.t > SPEED_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = Math.max((now - first.t) / 1000, 1e-3);
    this.o.onProgress({
      repoId: this.o.repoId, file, fileIndex: index, fileCount: this.fileCount,
      fileBytesDone: done, fileBytesTotal: total, bytesDone: this.bytesVerified + done, bytesTotal: this.bytesTotal,
      bytesPerSecond: (this.bytesTransferred - first.bytes) / seconds,
    });
  }

  /** Downloads one file into the staging folder, verified, and returns what was written. */
  async fetch(entry: RepoSibling, index: number): Promise<DownloadedFile> {
    const name = entry.rfilename;
    const target = path.join(this.staging, ...name.split('/'));
    const partial = `${target}.incomplete`;
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const url = fileUrl(this.hub.endpoint, this.o.repoId, this.commit, name);

    const done = await sizeOf(target);
    if (done !== undefined && (entry.size === undefined || done === entry.size)) {
      // Verified and renamed by an earlier, interrupted attempt (only verified files lose ".incomplete").
      const sha256 = (await hashFile(target, 'sha256')).digest('hex');
      if (!entry.lfs || entry.lfs.sha256 === sha256) {
        this.bytesVerified += done;
        this.emit(name, index, 0, done, true);
        return { path: name, size: done, sha256, lfs: entry.lfs !== undefined };
      }
      await fsp.rm(target, { force: true });
    }

    const result = await this.hub.withRetries(`${this.o.repoId}/${name}`, this.o.repoId,
      () => this.attempt(entry, index, url, partial),
      (n, why) => this.o.onRetry?.(name, n, why));
    await fsp.rename(partial, target);
    this.bytesVerified += result.size;
    return result;
  }

  private async attempt(entry: RepoSibling, index: number, url: URL, partial: string): Promise<DownloadedFile> {
    const name = entry.rfilename;
    let offset = (await sizeOf(partial)) ?? 0;
    if (entry.size !== undefined && offset > entry.size) { await fsp.rm(partial, { force: true }); offset = 0; }
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const { res, status, firstHeaders } = await this.hub.open(url, headers);
    const finalHeaders = res.headers;
    const what = `${this.o.repoId}/${name}`;

    if (status === 416) {
      // Our partial does not fit the file any more: start again from zero on the next attempt.
      res.resume();
      await fsp.rm(partial, { force: true });
      throw new RetryableError(`${name}: the server rejected the resume range`);
    }
    if (status !== 200 && status !== 206) { res.resume(); throw new HttpStatusError(status, what); }

    let start = 0;
    let total: number | undefined;
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res.headers, 'content-range') ?? '');
      if (!m || Number(m[1]) !== offset) {
        res.resume();
        await fsp.rm(partial, { force: true });
        throw new RetryableError(`${name}: the server answered a different range than requested`);
      }
      start = offset;
      if (m[3] !== '*') total = Number(m[3]);
      this.resumedRequests++;
    } else {
      const len = header(res.headers, 'content-length');
      if (len !== undefined) total = Number(len);
    }
    // What the Hub says the file is: X-Linked-* on the first (pre-redirect) response for LFS files.
    const linkedSize = header(firstHeaders, 'x-linked-size');
    const linkedEtag = normalizeEtag(header(firstHeaders, 'x-linked-etag'));
    const expectedSize = linkedSize !== undefined ? Number(linkedSize) : entry.size ?? total;
    if (expectedSize !== undefined && total !== undefined && total !== expectedSize) {
      res.resume();
      throw new ModelStoreError('INTEGRITY', `${what}: the server sends ${total} bytes but the Hub reports ${expectedSize}.`);
    }
    const apiSha = entry.lfs?.sha256;
    const headerSha = linkedEtag && /^[0-9a-f]{64}$/.test(linkedEtag) ? linkedEtag : undefined;
    if (apiSha && headerSha && apiSha !== headerSha) {
      res.resume();
      throw new ModelStoreError('INTEGRITY', `${what}: the Hub reports two different sha256 values (${apiSha} and ${headerSha}).`);
    }
    const expectedSha = headerSha ?? apiSha;

    // Hash what is already on disk, then append the rest while hashing it.
    const hash = start > 0 ? await hashFile(partial, 'sha256') : createHash('sha256');
    const fh = await fsp.open(partial, start > 0 ? 'a' : 'w');
    let received = start;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        try {
          await fh.write(chunk);
        } catch (we) {
          throw new ModelStoreError('IO', `Could not write ${partial}: ${(we as NodeJS.ErrnoException).code ?? (we as Error).message}.`,
            'Check the free disk space of the extension\'s storage folder, then try again.');
        }
        hash.update(chunk);
        received += chunk.length;
        this.bytesTransferred += chunk.length;
        if (expectedSize !== undefined && received > expectedSize) break;
        this.emit(name, index, received, expectedSize, false);
      }
    } catch (e) {
      if (this.o.signal?.aborted) throw cancelledError();
      if (e instanceof ModelStoreError) throw e;
      const progressed = received - start >= PROGRESS_FOR_FREE_RETRY;
      if (e instanceof RetryableError) throw new RetryableError(`${name}: ${e.message} (after ${received} bytes)`, progressed);
      throw new RetryableError(`${name}: connection lost after ${received} bytes (${(e as Error).message})`, progressed);
    } finally {
      await fh.close();
      res.destroy();
    }
    if (this.o.signal?.aborted) throw cancelledError();
    if (expectedSize !== undefined && received < expectedSize) {
      throw new RetryableError(`${name}: connection closed after ${received} of ${expectedSize} bytes`, received - start >= PROGRESS_FOR_FREE_RETRY);
    }
    if (expectedSize !== undefined && received > expectedSize) {
      await fsp.rm(partial, { force: true });
      throw new ModelStoreError('INTEGRITY', `${what}: received more than the ${expectedSize} bytes the Hub reports.`,
        'The download was discarded; try again.');
    }
    const sha256 = hash.digest('hex');
    if (expectedSha && sha256 !== expectedSha) {
      await fsp.rm(partial, { force: true });
      throw new ModelStoreError('INTEGRITY', `${what} is corrupt: its sha256 is ${sha256}, the Hub reports ${expectedSha}.`,
        'The download was discarded and nothing was installed; try again.');
    }
    if (!expectedSha) {
      // Small (non-LFS) files: the Hub's ETag (on the response that carried the bytes) / the API's blobId is
      // the git blob sha1 of the content.
      const etag = normalizeEtag(header(finalHeaders, 'etag'));
      const gitSha = entry.blobId ?? (etag && /^[0-9a-f]{40}$/.test(etag) ? etag : undefined);
      if (gitSha) {
        const actual = gitBlobSha1(await fsp.readFile(partial));
        if (actual !== gitSha) {
          await fsp.rm(partial, { force: true });
          throw new ModelStoreError('INTEGRITY', `${what} is corrupt: its git blob id is ${actual}, the Hub reports ${gitSha}.`,
            'The download was discarded and nothing was installed; try again.');
        }
      }
    }
    this.emit(name, index, received, expectedSize, true);
    return { path: name, size: received, sha256, lfs: expectedSha !== undefined };
  }
}

/**
 * Downloads the files the engine needs for `repoId@revision` into `storageDir` and returns the installed
 * snapshot folder. Throws ModelStoreError (CANCELLED, AUTH_REQUIRED, NOT_FOUND, UNSUPPORTED_REPO,
 * SERVER_ERROR, NETWORK, INTEGRITY, BAD_RESPONSE, IO).
 */
export async function downloadModel(o: DownloadOptions): Promise<DownloadResult> {
  const revision = o.revision ?? DEFAULT_REVISION;
  validateRepoId(o.repoId);
  validateRevision(revision);
  if (o.signal?.aborted) throw cancelledError();
  const key = `${path.resolve(o.storageDir)}|${o.repoId}`;
  if (active.has(key)) {
    throw new ModelStoreError('IO', `"${o.repoId}" is already being downloaded.`, 'Wait for the running download to finish.');
  }
  active.add(key);
  const repoPath = repoDir(o.storageDir, o.repoId);
  let lock: string | undefined;
  try {
    lock = await acquireLock(repoPath, o.repoId);
    return await runDownload(o, revision);
  } finally {
    active.delete(key);
    if (lock) {
      await fsp.rm(lock, { force: true });
      await fsp.rmdir(repoPath).catch(() => undefined); // only succeeds when nothing was installed or kept
    }
  }
}

/** Partials of other commits (the branch moved since an interrupted download) can never be resumed: free the space. */
async function dropStaleStaging(stagingRoot: string, keep: string): Promise<void> {
  let names: string[];
  try { names = await fsp.readdir(stagingRoot); } catch { return; }
  for (const n of names) if (n !== keep) await fsp.rm(path.join(stagingRoot, n), { recursive: true, force: true });
}

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Several VS Code windows share the global storage folder: a lock file (pid inside) keeps two extension hosts
 * from writing the same partial files. A lock whose process is gone is taken over.
 */
async function acquireLock(repoPath: string, repoId: string): Promise<string> {
  const lock = path.join(repoPath, '.download.lock');
  await fsp.mkdir(repoPath, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fsp.writeFile(lock, JSON.stringify({ pid: process.pid, started: new Date().toISOString() }), { flag: 'wx' });
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ModelStoreError('IO', `Cannot write to ${repoPath}: ${(e as Error).message}`);
      }
      let pid = NaN;
      try { pid = Number((JSON.parse(await fsp.readFile(lock, 'utf8')) as { pid?: unknown }).pid); } catch { /* unreadable: stale */ }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new ModelStoreError('IO', `"${repoId}" is being downloaded by another VS Code window (process ${pid}).`,
          'Wait for that download to finish, or cancel it there.');
      }
      await fsp.rm(lock, { force: true });
    }
  }
  throw new ModelStoreError('IO', `Could not take the download lock ${lock}.`);
}

async function runDownload(o: DownloadOptions, revision: string): Promise<DownloadResult> {
  const repoPath = repoDir(o.storageDir, o.repoId);
  // One client per download: the token provider is read once, lazily, and shared by all requests.
  const hub = new HubClient({ endpoint: o.endpoint, token: o.token, agentFactory: o.agentFactory, signal: o.signal,
    timeoutMs: o.timeoutMs, retries: o.retries, retryBaseDelayMs: o.retryBaseDelayMs });
  const info = await hub.repoInfo(o.repoId, revision);
  const commit = info.sha;

  const writeRef = async (): Promise<void> => {
    if (!isCommitHash(revision)) await writeAtomic(path.join(repoPath, 'refs', ...revision.split('/')), commit);
  };
  const existing = snapshotFor(o.storageDir, o.repoId, commit);
  if (existing && checkModelFolder(existing.dir).usable) {
    await writeRef();
    return { repoId: o.repoId, revision, commit, dir: existing.dir, files: [], alreadyInstalled: true, bytesTransferred: 0, resumedRequests: 0 };
  }

  const plan = planFiles(o.repoId, info.siblings);
  const staging = path.join(repoPath, '.staging', commit);
  await dropStaleStaging(path.dirname(staging), commit);
  const d = new Downloader(o, hub, commit, staging);
  const sumSizes = (files: readonly RepoSibling[]): number | undefined =>
    files.every((f) => f.size !== undefined) ? files.reduce((s, f) => s + f.size!, 0) : undefined;
  let files: RepoSibling[] = [...plan.files];
  d.fileCount = files.length;
  d.bytesTotal = sumSizes(files);
  const written: DownloadedFile[] = [];
  try {
    await fsp.mkdir(staging, { recursive: true });
    for (let i = 0; i < files.length; i++) {
      written.push(await d.fetch(files[i]!, i + 1));
      if (files[i]!.rfilename === WEIGHTS_INDEX) {
        let shards: string[];
        try {
          shards = shardsFromIndex(JSON.parse(await fsp.readFile(path.join(staging, WEIGHTS_INDEX), 'utf8')));
        } catch (e) {
          throw new ModelStoreError('UNSUPPORTED_REPO', `"${o.repoId}": ${WEIGHTS_INDEX} is malformed (${(e as Error).message}).`);
        }
        files = [...files, ...shardSiblings(o.repoId, shards, info.siblings)];
        d.fileCount = files.length;
        d.bytesTotal = sumSizes(files);
      }
    }
    const check = checkModelFolder(staging);
    if (!check.usable) {
      throw new ModelStoreError('INTEGRITY', `The downloaded files of "${o.repoId}" do not form a usable model (missing ${check.missing.join(', ')}).`);
    }
    // Publish: staging → snapshots/<commit>, then the ref.
    const snapshot = path.join(repoPath, 'snapshots', commit);
    await fsp.mkdir(path.dirname(snapshot), { recursive: true });
    if (fs.existsSync(snapshot)) {
      const aside = path.join(repoPath, `.removing-${commit}-${process.pid}`);
      await fsp.rename(snapshot, aside);
      await fsp.rm(aside, { recursive: true, force: true });
    }
    await fsp.rename(staging, snapshot);
    await fsp.rmdir(path.join(repoPath, '.staging')).catch(() => undefined);
    await writeRef();
    return { repoId: o.repoId, revision, commit, dir: snapshot, files: written, alreadyInstalled: false,
      bytesTransferred: d.bytesTransferred, resumedRequests: d.resumedRequests };
  } catch (e) {
    const err = e instanceof ModelStoreError ? e
      : new ModelStoreError('IO', `Download of "${o.repoId}" failed: ${(e as Error).message}`);
    const keepForResume = err.code === 'NETWORK' || err.code === 'SERVER_ERROR';
    if (!keepForResume) {
      await fsp.rm(staging, { recursive: true, force: true }).catch(() => undefined);
      await fsp.rmdir(path.join(repoPath, '.staging')).catch(() => undefined);
      // Leave no empty repo folder behind for a model that never got installed.
      await fsp.rmdir(repoPath).catch(() => undefined);
    }
    throw err;
  }
}
