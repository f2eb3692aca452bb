import { describe, expect, it } from 'vitest';
import { isHostNotice, isSliceRequest, isSliceResponse, isViewNotice, isViewState, paintBucket, PAINT_BUCKETS } from '../../../src/protocol/views';
import { viewsProtocol } from '../../../src/protocol/webview';

const env = (body: object) => ({ v: 1, id: 'attention-1', ...body });

describe('view protocol guards', () => {
  it('accepts well-formed slice requests and rejects malformed ones', () => {
    expect(isSliceRequest({ slice: 'attention', query: { stack: 'self', layer: 1, aggregation: 'head', heads: [2] } })).toBe(true);
    expect(isSliceRequest({ slice: 'attention', query: { stack: 'self', layer: 1, aggregation: 'rollout', heads: [] } })).toBe(true);
    expect(isSliceRequest({ slice: 'attention', query: { stack: 'self', layer: 1, aggregation: 'head', heads: [] } })).toBe(false); // no head
    expect(isSliceRequest({ slice: 'attention', query: { stack: 'side', layer: 1, aggregation: 'head', heads: [0] } })).toBe(false);
    expect(isSliceRequest({ slice: 'attention', query: { stack: 'self', layer: -1, aggregation: 'head', heads: [0] } })).toBe(false);
    expect(isSliceRequest({ slice: 'predictions', query: { k: 5, temperature: 0 } })).toBe(false);
    expect(isSliceRequest({ slice: 'positional', count: 0 })).toBe(false);
    expect(isSliceRequest({ slice: 'logitLens', k: 21 })).toBe(false);
    expect(isSliceRequest({ slice: 'everything' })).toBe(false);
  });
  it('view notices: offsets must be a valid span, export names safe, paints bounded', () => {
    expect(isViewNotice({ type: 'hoverToken', start: 3, end: 7, editor: true })).toBe(true);
    expect(isViewNotice({ type: 'hoverToken', start: 7, end: 3, editor: true })).toBe(false);
    expect(isViewNotice({ type: 'revealToken', start: 1.5, end: 3, editor: true })).toBe(false);
    expect(isViewNotice({ type: 'export', format: 'png', data: 'x', name: 'attention-L1-H2' })).toBe(true);
    expect(isViewNotice({ type: 'export', format: 'png', data: 'x', name: '../../etc/passwd' })).toBe(false);
    expect(isViewNotice({ type: 'export', format: 'exe', data: 'x', name: 'a' })).toBe(false);
    expect(isViewNotice({ type: 'paint', paint: { label: 'x', weights: [{ index: 1, weight: 0.5, title: 't' }] } })).toBe(true);
    expect(isViewNotice({ type: 'paint', paint: { label: 'x', weights: [{ index: -1, weight: 0.5, title: 't' }] } })).toBe(false);
    expect(isViewNotice({ type: 'continue', request: { tokens: 20, mode: 'greedy', seed: 1, temperature: 1 } })).toBe(true);
    expect(isViewNotice({ type: 'continue', request: { tokens: 0, mode: 'greedy', seed: 1, temperature: 1 } })).toBe(false);
    expect(isViewNotice({ type: 'drawn', what: 'tokens', analysisId: 't1' })).toBe(true);
    expect(isViewNotice({ type: 'unknown' })).toBe(false);
  });
  it('view state is small and typed', () => {
    expect(isViewState({ view: 'attention', layer: 1, head: 2, heads: [2], zoom: 12, queries: [3] })).toBe(true);
    expect(isViewState({ view: 'attention', zoom: -1 })).toBe(false);
    expect(isViewState({ view: 'nope' })).toBe(false);
  });
  it('host notices', () => {
    expect(isHostNotice({ type: 'highlight', indices: [1, 2] })).toBe(true);
    expect(isHostNotice({ type: 'highlight', indices: [-1] })).toBe(false);
    expect(isHostNotice({ type: 'progress', label: 'x', done: 1, total: 2, finished: false })).toBe(true);
    expect(isHostNotice({ type: 'summary', summary: { analysisId: 't1' } })).toBe(false);
  });
  it('slice responses carry typed arrays, not JSON number lists', () => {
    const m = { rows: 2, cols: 2, data: new Float32Array(4) };
    expect(isSliceResponse('attention', { nq: 2, nk: 2, matrices: [m] })).toBe(true);
    expect(isSliceResponse('attention', { nq: 2, nk: 2, matrices: [{ rows: 2, cols: 2, data: [0, 0, 0, 0] }] })).toBe(false);
    expect(isSliceResponse('attention', { nq: 2, nk: 2, matrices: [{ rows: 2, cols: 3, data: new Float32Array(4) }] })).toBe(false);
  });
  it('the envelope: every message validated on both sides', () => {
    expect(viewsProtocol.isToHost(env({ type: 'view/request', request: { slice: 'positional', count: 64 } }))).toBe(true);
    expect(viewsProtocol.isToHost(env({ type: 'view/request', request: { slice: 'positional', count: -1 } }))).toBe(false);
    expect(viewsProtocol.isToHost({ v: 2, id: 'a', type: 'view/notice', notice: { type: 'leaveToken' } })).toBe(false);
    expect(viewsProtocol.isToHost(env({ type: 'view/notice', notice: { type: 'leaveToken' } }))).toBe(true);
    expect(viewsProtocol.isToWebview(env({ type: 'view/sliceResult', ok: false, error: 'boom' }))).toBe(true);
    expect(viewsProtocol.isToWebview(env({ type: 'view/sliceResult', ok: true }))).toBe(false);
    expect(viewsProtocol.isToWebview(env({ type: 'view/notice', notice: { type: 'stale', stale: 'yes' } }))).toBe(false);
  });
  it('paint buckets: weights in (0, 1] map onto 0…7', () => {
    expect(paintBucket(1)).toBe(PAINT_BUCKETS - 1);
    expect(paintBucket(0.01)).toBe(0);
    expect(paintBucket(0.5)).toBe(3);
    expect(paintBucket(0.51)).toBe(4);
  });
});
