/**
 * A fake Hugging Face Hub for tests: a real HTTP server on 127.0.0.1 (random port) serving model folders
 * (e.g. from TE_MODELS_DIR) with the Hub's URL layout and headers, plus per-test fault injection.
 *
 *   GET  /api/models/{org}/{name}/revision/{rev}[?blobs=true]  → {id, modelId, sha, siblings:[{rfilename,size,blobId,lfs}]}
 *   HEAD|GET /{org}/{name}/resolve/{rev}/{file}
 *        small files: 200, ETag "<git blob sha1>", X-Repo-Commit
 *        LFS files (*.safetensors, *.bin, *.model…): 302 → /cdn/{sha256}, with X-Linked-Size, X-Linked-Etag "<sha256>",
 *        ETag, X-Repo-Commit (what huggingface.co does before redirecting to its CDN)
 *   HEAD|GET /cdn/{sha256}  → the bytes, Accept-Ranges, Range → 206 + Content-Range
 *   unknown repo → 404 X-Error-Code: RepoNotFound; unknown revision → 404 RevisionNotFound; unknown file → 404 EntryNotFound
 *
 * It only listens on 127.0.0.1, logs every request (method, path, Range, whether Authorization was sent), and
 * stops by itself after `idleTimeoutMs` without requests. Bodies are written in bounded chunk loops that stop
 * when the client goes away.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';

export interface HubFaults {
  /** Drop the TCP connection after sending `bytes` of `file`'s body, the next `times` times it is served. */
  dropAfter?: { file: string; bytes: number; times: number };
  /** Serve `file` with one byte flipped (headers still announce the true size and sha256). */
  corrupt?: { file: string };
  /** Answer `code` for requests matching `target` ('api', 'resolve', 'cdn' or a file name), `times` times (default: always). */
  status?: { code: number; target: string; times?: number };
  /** Send bodies in `chunkBytes` pieces with `delayMs` pauses. */
  slow?: { chunkBytes: number; delayMs: number };
  /** Ignore Range headers and always answer 200 with the whole file. */
  ignoreRange?: boolean;
  /** Require `Authorization: Bearer <token>` on api/resolve requests (a gated repo); 401 otherwise. */
  requireToken?: string;
  /** Answer the API without file metadata (as without `?blobs=true`): sizes and hashes then come from headers only. */
  apiWithoutBlobs?: boolean;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly hasAuth: boolean;
  status: number;
}

export interface HubFile {
  readonly name: string;
  readonly abs: string;
  readonly size: number;
  readonly sha256: string;
  readonly gitSha1: string;
  readonly lfs: boolean;
}

export interface LocalHub {
  readonly url: string;
  readonly requests: LoggedRequest[];
  faults: HubFaults;
  /** Origin that LFS redirects point to ('' = this server), e.g. another LocalHub acting as the CDN. */
  cdnBase: string;
  commitOf(repoId: string): string;
  file(repoId: string, name: string): HubFile;
  close(): Promise<void>;
}

const LFS = /\.(safetensors|bin|h5|msgpack|ot|model|onnx|gguf)$/;

/** The fixtures folder shared by the team (read-only). */
export function modelsDir(): string {
  return process.env.TE_MODELS_DIR ?? path.resolve(__dirname, '../../../shared/models');
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name), rel));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

function describeRepo(dir: string): { files: Map<string, HubFile>; commit: string } {
  const files = new Map<string, HubFile>();
  const commitHash = createHash('sha1');
  for (const name of walk(dir)) {
    const abs = path.join(dir, ...name.split('/'));
    const data = fs.readFileSync(abs);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const gitSha1 = createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
    files.set(name, { name, abs, size: data.length, sha256, gitSha1, lfs: LFS.test(name) });
    commitHash.update(`${name}\0${sha256}\n`);
  }
  return { files, commit: commitHash.digest('hex') };
}

export interface LocalHubOptions {
  /** Hub repo id → folder served as that repo. */
  readonly repos: Record<string, string>;
  /** Old repo id → current id: answered with a 307 relative redirect, as the Hub does for renamed repos. */
  readonly renamed?: Record<string, string>;
  readonly idleTimeoutMs?: number;
}

export async function startLocalHub(opts: LocalHubOptions): Promise<LocalHub> {
  const repos = new Map(Object.entries(opts.repos).map(([id, dir]) => [id, describeRepo(dir)]));
  const bySha = new Map<string, HubFile>();
  for (const r of repos.values()) for (const f of r.files.values()) if (f.lfs) bySha.set(f.sha256, f);
  const requests: LoggedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let idleTimer: NodeJS.Timeout | undefined;
  const hub: LocalHub = {
    url: '', requests, faults: {}, cdnBase: '',
    commitOf: (id) => repos.get(id)!.commit,
    file: (id, name) => repos.get(id)!.files.get(name)!,
    close: () => new Promise<void>((resolve) => {
      clearTimeout(idleTimer);
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { void hub.close(); }, opts.idleTimeoutMs ?? 120_000);
    idleTimer.unref();
  };

  const takeStatusFault = (kind: 'api' | 'resolve' | 'cdn', file?: string): number | undefined => {
    const f = hub.faults.status;
    if (!f || (f.target !== kind && f.target !== file)) return undefined;
    if (f.times !== undefined) {
      if (f.times <= 0) return undefined;
      f.times--;
    }
    return f.code;
  };

  const sendJson = (res: http.ServerResponse, log: LoggedRequest, code: number, body: unknown, extra: Record<string, string> = {}): void => {
    log.status = code;
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': data.length, ...extra });
    res.end(data);
  };

  /** Writes `data` in bounded chunks, honouring slow/drop faults; stops when the client disconnects. */
  const sendBody = async (res: http.ServerResponse, data: Buffer, file: HubFile): Promise<void> => {
    const drop = hub.faults.dropAfter;
    const dropAt = drop && drop.file === file.name && drop.times > 0 ? (drop.times--, drop.bytes) : undefined;
    const slow = hub.faults.slow;
    const chunk = slow?.chunkBytes ?? 64 * 1024;
    for (let off = 0; off < data.length; off += chunk) {
      if (res.destroyed) return;
      let piece = data.subarray(off, Math.min(off + chunk, data.length));
      if (dropAt !== undefined && off + piece.length >= dropAt) {
        piece = piece.subarray(0, dropAt - off);
        if (piece.length > 0) await new Promise<void>((r) => res.write(piece, () => r()));
        // Close the connection after flushing exactly `dropAt` bytes: the client sees a body shorter than
        // Content-Length, as with a dropped connection, and the resume offset is deterministic.
        res.socket?.end();
        return;
      }
      if (!res.write(piece)) await new Promise<void>((r) => { res.once('drain', r); res.once('close', r); });
      if (slow) await new Promise((r) => setTimeout(r, slow.delayMs));
    }
    res.end();
  };

  const serveBytes = async (req: http.IncomingMessage, res: http.ServerResponse, log: LoggedRequest, file: HubFile, extra: Record<string, string>): Promise<void> => {
    let data = fs.readFileSync(file.abs);
    if (hub.faults.corrupt?.file === file.name) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    const headers: Record<string, string | number> = { ...extra, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let status = 200;
    if (range && !hub.faults.ignoreRange) {
      const start = Number(range[1]);
      if (start >= data.length) {
        log.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${data.length}` });
        res.end();
        return;
      }
      headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
      data = data.subarray(start);
      status = 206;
    }
    headers['content-length'] = data.length;
    log.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') { res.end(); return; }
    await sendBody(res, data, file);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    armIdle();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const log: LoggedRequest = { method: req.method ?? '', path: url.pathname + url.search, range: req.headers.range, hasAuth: req.headers.authorization !== undefined, status: 0 };
    requests.push(log);
    for (const [oldId, newId] of Object.entries(opts.renamed ?? {})) {
      for (const prefix of [`/api/models/${oldId}/`, `/${oldId}/resolve/`]) {
        if (url.pathname.startsWith(prefix)) {
          log.status = 307;
          res.writeHead(307, { location: prefix.replace(oldId, newId) + url.pathname.slice(prefix.length) + url.search, 'content-length': 0 });
          res.end();
          return;
        }
      }
    }
    const segs = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const authorized = !hub.faults.requireToken || req.headers.authorization === `Bearer ${hub.faults.requireToken}`;

    if (segs[0] === 'cdn' && segs.length === 2) {
      const file = bySha.get(segs[1]!);
      const fault = takeStatusFault('cdn', file?.name);
      if (fault) return sendJson(res, log, fault, { error: `injected ${fault}` });
      if (!file) return sendJson(res, log, 404, { error: 'no such object' });
      return serveBytes(req, res, log, file, { etag: `"${file.sha256}"` });
    }
    if (segs[0] === 'api' && segs[1] === 'models') {
      // /api/models/{org}/{name}/revision/{rev}
      const m = /^\/api\/models\/([^/]+(?:\/[^/]+)?)\/revision\/([^/]+)$/.exec(url.pathname);
      const fault = takeStatusFault('api');
      if (fault) return sendJson(res, log, fault, { error: `injected ${fault}` });
      if (!authorized) return sendJson(res, log, 401, { error: 'Access to model is restricted.' }, { 'x-error-code': 'GatedRepo' });
      const repo = m ? repos.get(m[1]!) : undefined;
      if (!m || !repo) return sendJson(res, log, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      const rev = decodeURIComponent(m[2]!);
      if (rev !== 'main' && rev !== repo.commit) return sendJson(res, log, 404, { error: 'Invalid rev id' }, { 'x-error-code': 'RevisionNotFound' });
      const blobs = url.searchParams.get('blobs') === 'true' && !hub.faults.apiWithoutBlobs;
      return sendJson(res, log, 200, {
        id: m[1], modelId: m[1], sha: repo.commit,
        siblings: [...repo.files.values()].map((f) => blobs
          ? { rfilename: f.name, size: f.size, blobId: f.gitSha1, ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.size, pointerSize: 134 } } : {}) }
          : { rfilename: f.name }),
      });
    }
    const ri = segs.indexOf('resolve');
    if (ri === 1 || ri === 2) {
      const repoId = segs.slice(0, ri).join('/');
      const rev = segs[ri + 1] ?? '';
      const name = segs.slice(ri + 2).join('/');
      const repo = repos.get(repoId);
      const fault = takeStatusFault('resolve', name);
      if (fault) return sendJson(res, log, fault, { error: `injected ${fault}` });
      if (!authorized) return sendJson(res, log, 401, { error: 'Access to model is restricted.' }, { 'x-error-code': 'GatedRepo' });
      if (!repo) return sendJson(res, log, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      if (rev !== 'main' && rev !== repo.commit) return sendJson(res, log, 404, { error: 'Invalid rev id' }, { 'x-error-code': 'RevisionNotFound' });
      const file = repo.files.get(name);
      if (!file) return sendJson(res, log, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
      const common = { 'x-repo-commit': repo.commit };
      if (file.lfs) {
        log.status = 302;
        res.writeHead(302, {
          ...common, location: `${hub.cdnBase}/cdn/${file.sha256}`, 'x-linked-size': String(file.size),
          'x-linked-etag': `"${file.sha256}"`, etag: `"${file.sha256}"`, 'content-length': 0,
        });
        res.end();
        return;
      }
      return serveBytes(req, res, log, file, { ...common, etag: `"${file.gitSha1}"` });
    }
    return sendJson(res, log, 404, { error: 'not found' });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => { if (!res.headersSent) { res.writeHead(500); } res.end(); });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  armIdle();
  const addr = server.address() as net.AddressInfo;
  (hub as { url: string }).url = `http://127.0.0.1:${addr.port}`;
  return hub;
}
