/**
 * What a view needs from whoever hosts it: slices on request, notices both ways, and small persisted state.
 * In VS Code this is vscodeHost.ts (postMessage + validation); the gallery supplies one that serves fixture data.
 */
import type { HostNotice, SliceRequest, SliceResponse, ViewNotice, ViewState } from '../../src/protocol/views';

export interface ViewHost {
  request<R extends SliceRequest>(req: R): Promise<SliceResponse<R['slice']>>;
  notify(notice: ViewNotice): void;
  onNotice(fn: (notice: HostNotice) => void): void;
  getState(): ViewState | undefined;
  setState(state: ViewState): void;
  /** Diagnostics for the extension's output channel (failed loads, unexpected states). */
  log(level: 'info' | 'warn' | 'error', message: string): void;
}
