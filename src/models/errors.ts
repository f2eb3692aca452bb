/**
 * Every failure of the model store is a ModelStoreError with a stable code, so the UI can pick the right way
 * forward (offer a download, ask for a token, retry) and tests can assert on the kind of failure.
 */
export type ModelStoreErrorCode =
  | 'INVALID_REFERENCE' // the setting value is neither a valid Hub id nor a usable folder path
  | 'FOLDER_NOT_FOUND' // a local folder was named but does not exist
  | 'INCOMPLETE_MODEL' // a folder exists but lacks required files (see `missing`)
  | 'AUTH_REQUIRED' // 401/403: gated or private model, or a bad token
  | 'NOT_FOUND' // 404: no such model, revision or file on the Hub
  | 'UNSUPPORTED_REPO' // the repo has no files the engine can read (e.g. only pytorch_model.bin)
  | 'SERVER_ERROR' // 5xx after the bounded retries
  | 'NETWORK' // connection failed, reset or timed out after the bounded retries
  | 'INTEGRITY' // size or checksum of a downloaded file does not match what the Hub reports
  | 'BAD_RESPONSE' // the server answered something we cannot interpret
  | 'CANCELLED'
  | 'IO'; // local file system failure

export class ModelStoreError extends Error {
  constructor(
    readonly code: ModelStoreErrorCode,
    message: string,
    /** What the user can do next, ready to show in a notification. */
    readonly hint?: string,
    /** For INCOMPLETE_MODEL: the files (relative to the folder) that are missing or unreadable. */
    readonly missing?: readonly string[],
  ) {
    super(message);
    this.name = 'ModelStoreError';
  }
}

export function isModelStoreError(e: unknown): e is ModelStoreError {
  return e instanceof ModelStoreError;
}
