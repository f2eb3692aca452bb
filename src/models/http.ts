/**
 * A small HTTP(S) client on Node's http/https modules: manual redirects (so the first response's Hub headers
 * stay visible), an injectable agent per URL (for proxies), cancellation via AbortSignal, and an inactivity
 * timeout. Nothing here logs headers: the Authorization header must never reach a log.
 */
import http from 'node:http';
import https from 'node:https';
import { ModelStoreError } from './errors';

/** Returns the agent to use for a request URL (e.g. an https-proxy-agent), or undefined for Node's default. */
export type AgentFactory = (url: URL) => http.Agent | undefined;

export interface RequestOptions {
  readonly method?: 'GET' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent only to `authOrigin` (never to a CDN on another host that a redirect points to). */
  readonly token?: string;
  readonly authOrigin?: string;
  readonly agentFactory?: AgentFactory;
  readonly signal?: AbortSignal;
  /** Milliseconds without any socket activity before the request fails with a retryable NETWORK error. */
  readonly timeoutMs?: number;
  readonly maxRedirects?: number;
}

export interface OpenResponse {
  readonly response: http.IncomingMessage;
  readonly status: number;
  readonly finalUrl: URL;
  /**
   * Headers of the first response in the redirect chain that carries X-Linked-Size/X-Linked-Etag (the Hub's
   * 302 to its CDN, possibly after a relative redirect for a renamed repo), else of the first response.
   */
  readonly firstHeaders: http.IncomingHttpHeaders;
}

/** Transport failure worth retrying (reset, refused, timeout, truncated body). */
export class RetryableError extends Error {
  /** `progressed`: the failed attempt still moved the download forward (bytes were kept for resuming). */
  constructor(message: string, readonly progressed = false) { super(message); this.name = 'RetryableError'; }
}

export function cancelledError(): ModelStoreError {
  return new ModelStoreError('CANCELLED', 'The download was cancelled.');
}

function requestOnce(url: URL, opts: RequestOptions, sendAuth: boolean): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) { reject(cancelledError()); return; }
    const headers: Record<string, string> = { 'user-agent': 'transformer-explorer', 'accept-encoding': 'identity', ...opts.headers };
    if (sendAuth && opts.token) headers.authorization = `Bearer ${opts.token}`;
    const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!mod) { reject(new ModelStoreError('BAD_RESPONSE', `Unsupported URL scheme in ${url.protocol}//${url.host}.`)); return; }
    const req = mod.request(url, { method: opts.method ?? 'GET', headers, agent: opts.agentFactory?.(url) });
    let settled = false;
    let response: http.IncomingMessage | undefined;
    // Errors are also pushed into the response stream so a reader sees why the body stopped.
    const fail = (err: Error): void => { response?.destroy(err); req.destroy(err); };
    const onAbort = (): void => fail(cancelledError());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => opts.signal?.removeEventListener('abort', onAbort);
    req.setTimeout(opts.timeoutMs ?? 30_000, () => {
      fail(new RetryableError(`no data from ${url.host} for ${((opts.timeoutMs ?? 30_000) / 1000).toFixed(1)} s`));
    });
    req.on('response', (res) => {
      settled = true;
      response = res;
      res.once('close', cleanup);
      resolve(res);
    });
    req.on('error', (err) => {
      cleanup();
      if (settled) return; // errors after the response are surfaced by the response stream
      if (err instanceof ModelStoreError || err instanceof RetryableError) reject(err);
      else reject(new RetryableError(`${url.host}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    req.end();
  });
}

/** Opens a request and follows up to `maxRedirects` redirects. The caller consumes or discards the body. */
export async function openRequest(url: URL, opts: RequestOptions = {}): Promise<OpenResponse> {
  let current = url;
  let firstHeaders: http.IncomingHttpHeaders | undefined;
  let linkedHeaders: http.IncomingHttpHeaders | undefined;
  const maxRedirects = opts.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    const sendAuth = opts.authOrigin === undefined || current.origin === opts.authOrigin;
    const res = await requestOnce(current, opts, sendAuth);
    firstHeaders ??= res.headers;
    if (!linkedHeaders && (res.headers['x-linked-etag'] || res.headers['x-linked-size'])) linkedHeaders = res.headers;
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      res.resume();
      if (hop >= maxRedirects) throw new ModelStoreError('BAD_RESPONSE', `Too many redirects from ${url.host}.`);
      current = new URL(location, current);
      continue;
    }
    return { response: res, status, finalUrl: current, firstHeaders: linkedHeaders ?? firstHeaders };
  }
}

/** Reads a (small) body fully, with a size cap. */
export async function readBody(res: http.IncomingMessage, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > maxBytes) { res.destroy(); throw new ModelStoreError('BAD_RESPONSE', `Response larger than ${maxBytes} bytes.`); }
      chunks.push(chunk);
    }
  } catch (e) {
    throw e instanceof ModelStoreError ? e : new RetryableError(`connection lost while reading: ${(e as Error).message}`);
  }
  return Buffer.concat(chunks);
}

export function header(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** `"abc"` / `W/"abc"` → `abc` (huggingface_hub's _normalize_etag). */
export function normalizeEtag(etag: string | undefined): string | undefined {
  if (!etag) return undefined;
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Sleeps `ms`, rejecting with CANCELLED as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(cancelledError()); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(t); reject(cancelledError()); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
