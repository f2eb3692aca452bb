/**
 * The Hub's HTTP API as far as downloads need it: the endpoint, the repo file listing
 * (`GET {endpoint}/api/models/{id}/revision/{rev}?blobs=true`, as huggingface_hub's model_info with
 * files_metadata=True), file URLs (`{endpoint}/{id}/resolve/{rev}/{file}`), status → error mapping and
 * bounded retries with exponential backoff.
 */
import type http from 'node:http';
import { ModelStoreError } from './errors';
import { cancelledError, delay, openRequest, readBody, RetryableError, type AgentFactory } from './http';
import { isCommitHash, validateRepoId, validateRevision } from './modelRef';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Extra attempts allowed for failures that still made progress (see withRetries). */
const MAX_PROGRESSING_RETRIES = 50;

/** Setting (when non-empty) wins over `HF_ENDPOINT`, which wins over https://huggingface.co. */
export function resolveEndpoint(setting?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const raw = (setting?.trim() || env.HF_ENDPOINT?.trim() || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  let url: URL;
  try { url = new URL(raw); } catch {
    throw new ModelStoreError('INVALID_REFERENCE', `The Hub endpoint "${raw}" is not a URL.`, 'Use a URL such as https://huggingface.co.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ModelStoreError('INVALID_REFERENCE', `The Hub endpoint "${raw}" must use http or https.`);
  }
  if (url.username || url.password) {
    throw new ModelStoreError('INVALID_REFERENCE', 'The Hub endpoint must not contain credentials; use the access token setting instead.');
  }
  return raw;
}

/** A token, or a provider that reads it lazily (e.g. from VS Code SecretStorage). */
export type TokenSource = string | (() => Promise<string | undefined>) | undefined;

export interface HubClientOptions {
  readonly endpoint: string;
  readonly token?: TokenSource;
  readonly agentFactory?: AgentFactory;
  readonly signal?: AbortSignal;
  /** Inactivity timeout per request, ms (default 30 s). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for 5xx/429 and transport errors (default 4). */
  readonly retries?: number;
  /** First backoff delay, doubled each retry (default 1000 ms). */
  readonly retryBaseDelayMs?: number;
}

export interface RepoSibling {
  readonly rfilename: string;
  readonly size?: number;
  /** Git blob id (sha1 of "blob <size>\0" + content) for non-LFS files. */
  readonly blobId?: string;
  readonly lfs?: { readonly sha256: string; readonly size: number };
}

export interface RepoInfo {
  readonly id: string;
  /** The commit the revision resolved to. */
  readonly sha: string;
  readonly siblings: readonly RepoSibling[];
}

/** An HTTP status we did not want; `retryable` for 5xx and 429. */
export class HttpStatusError extends Error {
  constructor(readonly status: number, readonly what: string) {
    super(`HTTP ${status} for ${what}`);
    this.name = 'HttpStatusError';
  }
  get retryable(): boolean { return this.status >= 500 || this.status === 429; }
}

export function hubErrorFor(status: number, repoId: string, what: string, hadToken: boolean): ModelStoreError {
  if (status === 401 || status === 403) {
    return new ModelStoreError('AUTH_REQUIRED',
      hadToken
        ? `The Hub refused access to ${what} (HTTP ${status}): the access token was rejected or has no access to "${repoId}".`
        : `"${repoId}" is gated or private, or does not exist (HTTP ${status}; the Hub answers 401 for unknown repos to anonymous users).`,
      `Accept the model's terms on the Hub, then add an access token with "Transformer: Set Hugging Face Token…" (it is kept in VS Code's secret storage).`);
  }
  if (status === 404) {
    return new ModelStoreError('NOT_FOUND', `No such model or file on the Hub: ${what} (HTTP 404).`,
      'Check the model id and revision (ids look like "openai-community/gpt2").');
  }
  if (status >= 500 || status === 429) {
    return new ModelStoreError('SERVER_ERROR', `The Hub kept failing for ${what} (HTTP ${status}).`, 'Try again later.');
  }
  return new ModelStoreError('BAD_RESPONSE', `Unexpected HTTP ${status} for ${what}.`);
}

export function fileUrl(endpoint: string, repoId: string, revision: string, file: string): URL {
  const encodedFile = file.split('/').map(encodeURIComponent).join('/');
  return new URL(`${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodedFile}`);
}

export class HubClient {
  readonly endpoint: string;
  readonly authOrigin: string;
  private tokenCache: Promise<string | undefined> | undefined;

  constructor(readonly opts: HubClientOptions) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.authOrigin = new URL(this.endpoint).origin;
  }

  token(): Promise<string | undefined> {
    const t = this.opts.token;
    this.tokenCache ??= (typeof t === 'function' ? t() : Promise.resolve(t)).then((v) => {
      const token = v?.trim() || undefined;
      // Never echo the token itself: only say what is wrong with it.
      if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
        throw new ModelStoreError('AUTH_REQUIRED', 'The Hugging Face access token contains spaces or characters that cannot be sent.',
          'Set the token again with "Transformer: Set Hugging Face Token…" (copy it from huggingface.co/settings/tokens).');
      }
      return token;
    });
    return this.tokenCache;
  }

  /**
   * Runs `attempt` with bounded retries on transport errors and retryable statuses. A failure after which the
   * download still made progress (a dropped connection that delivered bytes) does not use up a retry, so a
   * large file on a flaky line completes; the total number of attempts is still capped.
   */
  async withRetries<T>(what: string, repoId: string, attempt: (n: number) => Promise<T>, onRetry?: (n: number, why: string) => void): Promise<T> {
    const retries = this.opts.retries ?? 4;
    const base = this.opts.retryBaseDelayMs ?? 1000;
    const maxAttempts = retries + 1 + MAX_PROGRESSING_RETRIES;
    let n = 0;
    for (let total = 1; ; total++) {
      try {
        return await attempt(total - 1);
      } catch (e) {
        if (this.opts.signal?.aborted) throw cancelledError();
        const retryable = e instanceof RetryableError || (e instanceof HttpStatusError && e.retryable);
        const progressed = e instanceof RetryableError && e.progressed;
        if (!retryable || (!progressed && n >= retries) || total >= maxAttempts) {
          if (e instanceof HttpStatusError) throw hubErrorFor(e.status, repoId, e.what, (await this.token()) !== undefined);
          if (e instanceof RetryableError) {
            throw new ModelStoreError('NETWORK', `Could not download ${what}: ${e.message} (after ${total} attempts).`,
              'Check the network connection and VS Code\'s "http.proxy" setting, then try again; the download resumes where it stopped.');
          }
          throw e;
        }
        if (progressed) {
          onRetry?.(total, (e as Error).message);
          await delay(base, this.opts.signal);
        } else {
          n++;
          onRetry?.(total, (e as Error).message);
          await delay(base * 2 ** (n - 1), this.opts.signal);
        }
      }
    }
  }

  async open(url: URL, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): Promise<{ res: http.IncomingMessage; status: number; firstHeaders: http.IncomingHttpHeaders }> {
    const { response, status, firstHeaders } = await openRequest(url, {
      method, headers, token: await this.token(), authOrigin: this.authOrigin,
      agentFactory: this.opts.agentFactory, signal: this.opts.signal, timeoutMs: this.opts.timeoutMs,
    });
    return { res: response, status, firstHeaders };
  }

  async repoInfo(repoId: string, revision: string): Promise<RepoInfo> {
    validateRepoId(repoId);
    validateRevision(revision);
    const url = new URL(`${this.endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}?blobs=true`);
    const what = `${repoId}@${revision}`;
    const body = await this.withRetries(what, repoId, async () => {
      const { res, status } = await this.open(url, { accept: 'application/json' });
      if (status !== 200) { res.resume(); throw new HttpStatusError(status, what); }
      return readBody(res);
    });
    return parseRepoInfo(body, what);
  }
}

export function parseRepoInfo(body: Buffer, what: string): RepoInfo {
  let json: unknown;
  try { json = JSON.parse(body.toString('utf8')); } catch {
    throw new ModelStoreError('BAD_RESPONSE', `The Hub's answer for ${what} is not JSON.`, 'Check the Hub endpoint setting.');
  }
  const j = json as { id?: unknown; modelId?: unknown; sha?: unknown; siblings?: unknown };
  if (typeof j.sha !== 'string' || !isCommitHash(j.sha) || !Array.isArray(j.siblings)) {
    throw new ModelStoreError('BAD_RESPONSE', `The Hub's answer for ${what} has no commit "sha" or no "siblings" list.`);
  }
  const siblings: RepoSibling[] = [];
  for (const s of j.siblings as unknown[]) {
    const o = s as { rfilename?: unknown; size?: unknown; blobId?: unknown; lfs?: { sha256?: unknown; size?: unknown } | null };
    if (typeof o?.rfilename !== 'string') continue;
    const lfs = o.lfs && typeof o.lfs.sha256 === 'string' && typeof o.lfs.size === 'number'
      ? { sha256: o.lfs.sha256, size: o.lfs.size } : undefined;
    siblings.push({
      rfilename: o.rfilename,
      size: typeof o.size === 'number' ? o.size : lfs?.size,
      blobId: typeof o.blobId === 'string' ? o.blobId : undefined,
      lfs,
    });
  }
  const id = typeof j.id === 'string' ? j.id : typeof j.modelId === 'string' ? j.modelId : what;
  return { id, sha: j.sha, siblings };
}
