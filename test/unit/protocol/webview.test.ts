import { describe, expect, it, vi } from 'vitest';
import { MessageEndpoint, WEBVIEW_PROTOCOL_VERSION, explainInvalid, welcomeProtocol, type Message, type WelcomeToHost, type WelcomeToWebview } from '../../../src/protocol/webview';

const env = (body: object, extra: object = {}) => ({ v: WEBVIEW_PROTOCOL_VERSION, id: 'w-1', ...body, ...extra });

describe('webview protocol guards', () => {
  it('accepts well-formed messages in each direction', () => {
    expect(welcomeProtocol.isToHost(env({ type: 'ready', view: 'welcome' }))).toBe(true);
    expect(welcomeProtocol.isToHost(env({ type: 'pong', sentAt: 1, heading: 'x' }, { inReplyTo: 'host-1' }))).toBe(true);
    expect(welcomeProtocol.isToHost(env({ type: 'welcome/openSettings' }))).toBe(true);
    expect(welcomeProtocol.isToWebview(env({ type: 'ping', sentAt: 5 }))).toBe(true);
    expect(welcomeProtocol.isToWebview(env({ type: 'welcome/info', info: { extensionVersion: '0.1.0', vscodeVersion: '1.100.3', model: 'gpt2' } }))).toBe(true);
  });

  it.each([
    ['null', null],
    ['a string', 'ready'],
    ['an array', [1, 2]],
    ['no version', { id: 'a', type: 'ready', view: 'x' }],
    ['a future version', env({ type: 'ready', view: 'x' }, { v: 2 })],
    ['an empty id', env({ type: 'ready', view: 'x' }, { id: '' })],
    ['a numeric id', env({ type: 'ready', view: 'x' }, { id: 7 })],
    ['an over-long id', env({ type: 'ready', view: 'x' }, { id: 'x'.repeat(65) })],
    ['a non-string inReplyTo', env({ type: 'pong', sentAt: 1, heading: '' }, { inReplyTo: 3 })],
    ['a missing type', env({})],
    ['an unknown type', env({ type: 'rm -rf' })],
    ['a prototype key as type', env({ type: 'constructor' })],
    ['a type of the other direction', env({ type: 'ping', sentAt: 1 })],
    ['ready without view', env({ type: 'ready' })],
    ['pong with a string sentAt', env({ type: 'pong', sentAt: '1', heading: '' })],
    ['pong with NaN sentAt', env({ type: 'pong', sentAt: Number.NaN, heading: '' })],
    ['log with an unknown level', env({ type: 'log', level: 'fatal', message: 'x' })],
    ['log with a huge message', env({ type: 'log', level: 'info', message: 'x'.repeat(10_001) })],
  ])('rejects %s from the webview', (_what, raw) => {
    expect(welcomeProtocol.isToHost(raw)).toBe(false);
    expect(explainInvalid(raw, welcomeProtocol.toHost)).not.toBe('');
  });

  it('rejects malformed host → webview messages', () => {
    expect(welcomeProtocol.isToWebview(env({ type: 'ping' }))).toBe(false);
    expect(welcomeProtocol.isToWebview(env({ type: 'welcome/info', info: { extensionVersion: 1 } }))).toBe(false);
    expect(welcomeProtocol.isToWebview(env({ type: 'ready', view: 'x' }))).toBe(false);
  });

  it('explains why a message is invalid', () => {
    expect(explainInvalid(env({ type: 'nope' }), welcomeProtocol.toHost)).toMatch(/unknown message type 'nope'/);
    expect(explainInvalid(env({ type: 'ready' }, { v: 9 }), welcomeProtocol.toHost)).toMatch(/protocol version 9/);
    expect(explainInvalid(env({ type: 'ready' }), welcomeProtocol.toHost)).toMatch(/malformed 'ready'/);
  });
});

describe('MessageEndpoint', () => {
  /** Two endpoints wired back to back, like host and webview. */
  function pair() {
    const invalid = vi.fn();
    const hostInbox: Message<WelcomeToHost>[] = [];
    const peer: { webview?: MessageEndpoint<WelcomeToHost, WelcomeToWebview> } = {};
    const host = new MessageEndpoint<WelcomeToWebview, WelcomeToHost>('host', { send: (m) => peer.webview!.receive(structuredClone(m)), onInvalid: invalid },
      welcomeProtocol.isToHost, welcomeProtocol.toHost, (m) => hostInbox.push(m));
    const webview = new MessageEndpoint<WelcomeToHost, WelcomeToWebview>('welcome', { send: (m) => host.receive(structuredClone(m)), onInvalid: invalid },
      welcomeProtocol.isToWebview, welcomeProtocol.toWebview, (m) => {
        if (m.type === 'ping') webview.post({ type: 'pong', sentAt: m.sentAt, heading: 'H' }, m.id);
      });
    peer.webview = webview;
    return { host, webview, hostInbox, invalid };
  }

  it('resolves a request with the reply that names it, and stamps the envelope', async () => {
    const { host } = pair();
    const pong = await host.request({ type: 'ping', sentAt: 42 }, 'pong');
    expect(pong).toMatchObject({ v: WEBVIEW_PROTOCOL_VERSION, type: 'pong', sentAt: 42, heading: 'H', inReplyTo: 'host-1' });
    expect(pong.id).toBe('welcome-1');
  });

  it('delivers unsolicited messages to the handler and drops invalid ones with a reason', () => {
    const { host, webview, hostInbox, invalid } = pair();
    webview.post({ type: 'ready', view: 'welcome' });
    host.receive({ v: 1, id: 'x', type: 'ready' });
    host.receive({ v: 1, id: 'y', type: 'evil', payload: 1 });
    expect(hostInbox.map((m) => m.type)).toEqual(['ready']);
    expect(invalid).toHaveBeenCalledTimes(2);
    expect(invalid.mock.calls[1][0]).toMatch(/unknown message type 'evil'/);
  });

  it('times out when no reply comes, and rejects pending requests on dispose', async () => {
    const silent = new MessageEndpoint<WelcomeToWebview, WelcomeToHost>('host', { send: () => undefined, onInvalid: () => undefined },
      welcomeProtocol.isToHost, welcomeProtocol.toHost, () => undefined);
    await expect(silent.request({ type: 'ping', sentAt: 1 }, 'pong', 20)).rejects.toThrow(/No 'pong' reply to 'ping' within 20 ms/);
    const pending = silent.request({ type: 'ping', sentAt: 1 }, 'pong', 10_000);
    silent.dispose();
    await expect(pending).rejects.toThrow(/Channel closed/);
  });

  it('rejects a reply of the wrong type', async () => {
    const self: { ep?: MessageEndpoint<WelcomeToWebview, WelcomeToHost> } = {};
    const ep = new MessageEndpoint<WelcomeToWebview, WelcomeToHost>('host', {
      send: (m) => self.ep!.receive({ v: 1, id: 'w-9', inReplyTo: m.id, type: 'ready', view: 'welcome' }),
      onInvalid: () => undefined,
    }, welcomeProtocol.isToHost, welcomeProtocol.toHost, () => undefined);
    self.ep = ep;
    await expect(ep.request({ type: 'ping', sentAt: 1 }, 'pong')).rejects.toThrow(/Expected 'pong'.*got 'ready'/);
  });
});
