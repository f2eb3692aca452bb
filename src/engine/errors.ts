/**
 * Every failure the engine reports is an EngineError with a stable code, so the extension can show a clear,
 * actionable message (and tests can assert on the kind of failure, not the wording).
 */
export type EngineErrorCode =
  | 'MISSING_FILE' // a required file (config.json, tokenizer.json, weights) is absent
  | 'BAD_SAFETENSORS' // malformed safetensors header or data
  | 'BAD_CONFIG' // config.json unreadable or inconsistent
  | 'BAD_TOKENIZER' // tokenizer.json unreadable or unusable
  | 'BAD_CHECKPOINT' // tensors missing, unexpected, or of the wrong shape
  | 'UNSUPPORTED_MODEL' // architecture or variant the engine does not implement
  | 'BAD_INPUT' // text/options the engine cannot run (empty, too long, bad position…)
  | 'CANCELLED' // the run was cancelled by a newer request or the user
  | 'WORKER_CRASHED' // the worker thread died; it has been restarted
  | 'INTERNAL';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    /** Optional hint telling the user what to do next. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}
