/**
 * How a failure is presented: one message, its severity and the buttons that lead somewhere. Pure (no vscode), so
 * each error code's way forward is unit-tested; src/ui/errors.ts shows it.
 */
import { EngineError } from '../engine/errors';
import { ModelStoreError } from '../models';

export type ErrorAction = 'Select Model…' | 'Download' | 'Open Settings' | 'Set Hugging Face Token…' | 'Retry' | 'Show Log';

export interface ErrorPresentation {
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
  readonly actions: readonly ErrorAction[];
  /** For "Open Settings": the setting to open. */
  readonly setting?: string;
}

function withHint(message: string, hint?: string): string {
  const m = message.trim();
  if (!hint) return m;
  return `${m}${/[.!?]$/.test(m) ? '' : '.'} ${hint.trim()}`;
}

export function presentError(e: unknown, context: { notInstalledRepo?: string } = {}): ErrorPresentation {
  if (e instanceof ModelStoreError) {
    const message = withHint(e.message, e.hint);
    switch (e.code) {
      case 'CANCELLED': return { severity: 'info', message: 'Download cancelled. Nothing was changed.', actions: [] };
      case 'AUTH_REQUIRED': return { severity: 'error', message, actions: ['Set Hugging Face Token…', 'Select Model…'] };
      case 'NOT_FOUND': case 'UNSUPPORTED_REPO': return { severity: 'error', message, actions: ['Select Model…'] };
      case 'NETWORK': case 'SERVER_ERROR': case 'BAD_RESPONSE':
        return { severity: 'error', message, actions: ['Retry', 'Open Settings'], setting: 'transformerExplorer.hubEndpoint' };
      case 'INTEGRITY': return { severity: 'error', message, actions: ['Retry'] };
      case 'INVALID_REFERENCE': case 'FOLDER_NOT_FOUND': case 'INCOMPLETE_MODEL':
        return { severity: 'error', message, actions: ['Select Model…', 'Open Settings'], setting: 'transformerExplorer.model' };
      case 'IO': return { severity: 'error', message, actions: ['Show Log'] };
    }
  }
  if (e instanceof EngineError) {
    const message = withHint(e.message, e.hint);
    switch (e.code) {
      case 'CANCELLED': return { severity: 'info', message: 'Cancelled.', actions: [] };
      case 'MISSING_FILE':
        return context.notInstalledRepo
          ? { severity: 'warning', message, actions: ['Download', 'Select Model…'] }
          : { severity: 'error', message, actions: ['Select Model…', 'Open Settings'], setting: 'transformerExplorer.model' };
      case 'BAD_SAFETENSORS': case 'BAD_CONFIG': case 'BAD_TOKENIZER': case 'BAD_CHECKPOINT': case 'UNSUPPORTED_MODEL':
        return { severity: 'error', message, actions: ['Select Model…', 'Open Settings'], setting: 'transformerExplorer.model' };
      case 'BAD_INPUT': return { severity: 'warning', message, actions: [] };
      case 'WORKER_CRASHED': return { severity: 'error', message, actions: ['Retry', 'Show Log'] };
      case 'INTERNAL': return { severity: 'error', message, actions: ['Show Log'] };
    }
  }
  const message = e instanceof Error ? e.message : String(e);
  return { severity: 'error', message: `Transformer Explorer: ${message}`, actions: ['Show Log'] };
}

/** Cancellation is the user's own choice: no error toast. */
export function isCancellation(e: unknown): boolean {
  return (e instanceof EngineError || e instanceof ModelStoreError) && e.code === 'CANCELLED';
}
