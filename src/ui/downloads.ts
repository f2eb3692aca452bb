/**
 * Hub downloads with a cancellable progress notification (bytes and speed). The model store does the real work
 * (staging folder, resume, size/sha256 checks, atomic rename), so a failed or cancelled download never leaves a
 * corrupt model; this file only reports progress and wires cancellation.
 */
import * as vscode from 'vscode';
import type { DownloadProgress, DownloadResult, ModelStore } from '../models';
import { formatBytes } from './format';

/** What the progress line says for one progress event. */
export function describeProgress(p: DownloadProgress): string {
  const total = p.bytesTotal !== undefined ? ` of ${formatBytes(p.bytesTotal)}` : '';
  const speed = p.bytesPerSecond > 0 ? ` · ${formatBytes(p.bytesPerSecond)}/s` : '';
  return `${p.file} (${p.fileIndex}/${p.fileCount}) · ${formatBytes(p.bytesDone)}${total}${speed}`;
}

export async function downloadWithProgress(store: ModelStore, repoId: string, revision?: string): Promise<DownloadResult> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Downloading ${repoId}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let reported = 0; // percent already reported (withProgress takes increments)
      try {
        progress.report({ message: `from ${store.endpoint()}…` });
        return await store.download(repoId, revision, {
          signal: abort.signal,
          onProgress: (p) => {
            const pct = p.bytesTotal ? Math.min(100, (100 * p.bytesDone) / p.bytesTotal) : undefined;
            const increment = pct !== undefined && pct > reported ? pct - reported : undefined;
            if (pct !== undefined) reported = Math.max(reported, pct);
            progress.report({ message: describeProgress(p), increment });
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
}
