import { describe, expect, it } from 'vitest';
import { collectTransferables, isHostToWorker, isWorkerToHost, WORKER_PROTOCOL_VERSION as v } from '../../../src/protocol/worker';

describe('worker protocol guards', () => {
  it('accepts well-formed messages', () => {
    expect(isHostToWorker({ v, kind: 'request', id: 1, op: 'ping', args: null, cancelSlot: 1 })).toBe(true);
    expect(isHostToWorker({ v, kind: 'init', cancelFlags: new SharedArrayBuffer(8) })).toBe(true);
    expect(isHostToWorker({ v, kind: 'configure', packCache: '/home/u/.vscode/globalStorage/x/weights' })).toBe(true);
    expect(isHostToWorker({ v, kind: 'configure', packCache: null })).toBe(true);
    expect(isWorkerToHost({ v, kind: 'result', inReplyTo: 1, result: { a: 1 } })).toBe(true);
    expect(isWorkerToHost({ v, kind: 'error', inReplyTo: 1, error: { code: 'X', message: 'm' } })).toBe(true);
    expect(isWorkerToHost({ v, kind: 'progress', inReplyTo: 1, stage: 'layer', done: 1, total: 2 })).toBe(true);
  });

  it.each([
    null, undefined, 42, 'ping', [], {},
    { v: 99, kind: 'request', id: 1, op: 'ping', args: null, cancelSlot: 0 },
    { v, kind: 'request', id: -1, op: 'ping', args: null, cancelSlot: 0 },
    { v, kind: 'request', id: 1.5, op: 'ping', args: null, cancelSlot: 0 },
    { v, kind: 'request', id: 1, op: '', args: null, cancelSlot: 0 },
    { v, kind: 'request', id: 1, op: 'x'.repeat(65), args: null, cancelSlot: 0 },
    { v, kind: 'request', id: 1, op: 'ping', cancelSlot: 0 },
    { v, kind: 'request', id: 1, op: 'ping', args: null, cancelSlot: -2 },
    { v, kind: 'init', cancelFlags: new ArrayBuffer(8) },
    { v, kind: 'bogus' },
    { v, kind: 'configure' },
    { v, kind: 'configure', packCache: '' },
    { v, kind: 'configure', packCache: 7 },
    { v, kind: 'configure', packCache: 'a\0b' },
  ])('host→worker rejects %j', (m) => expect(isHostToWorker(m)).toBe(false));

  it.each([
    { v, kind: 'result', inReplyTo: 'a', result: 1 },
    { v, kind: 'result', inReplyTo: 1 },
    { v, kind: 'error', inReplyTo: 1, error: 'boom' },
    { v, kind: 'error', inReplyTo: 1, error: { code: 1, message: 'm' } },
    { v, kind: 'error', inReplyTo: 1, error: { code: 'X', message: 'm', hint: 3 } },
    { v, kind: 'progress', inReplyTo: 1, stage: 'x', done: '1', total: 2 },
    { v: 0, kind: 'ready', threadId: 1 },
  ])('worker→host rejects %j', (m) => expect(isWorkerToHost(m)).toBe(false));

  it('collects whole buffers for transfer, not views on part of a buffer', () => {
    const whole = new Float32Array(4);
    const shared = new Float32Array(8);
    const part = shared.subarray(2, 4);
    const got = collectTransferables({ a: whole, b: [part, { c: whole }], m: new Map([['k', new Uint8Array(3)]]) });
    expect(got).toContain(whole.buffer);
    expect(got).not.toContain(shared.buffer);
    expect(got).toHaveLength(2);
  });
});
