/**
 * The extension ↔ webview channel: one versioned envelope, one `type`-discriminated union per direction and view,
 * a runtime guard for every receive, and a small endpoint that does ids, request/response and validation.
 * Shared by both sides (the extension host and the browser bundles in webview/), so: no `vscode`, no DOM, no Node.
 *
 * Adding a view:
 *   1. declare `XToWebview` and `XToHost` unions (include `CommonToWebview` / `CommonToHost`),
 *   2. `export const xProtocol = defineProtocol<XToWebview, XToHost>({ toWebview: {...}, toHost: {...} })` — the
 *      validator tables are mapped types, so the compiler refuses a message type without a validator,
 *   3. on each side wrap the transport in `new MessageEndpoint(...)` with the matching guard and switch over
 *      `msg.type` ending in `assertNever(msg)`.
 */

import { isHostNotice, isSliceRequest, isViewNotice, type HostNotice, type SliceRequest, type ViewNotice } from './views';

export const WEBVIEW_PROTOCOL_VERSION = 1;

/** Every message carries this. `id` is unique per sender; a reply names the request in `inReplyTo`. */
export interface Envelope {
  readonly v: typeof WEBVIEW_PROTOCOL_VERSION;
  readonly id: string;
  readonly inReplyTo?: string;
}

/** A message body: anything with a string `type`. */
export interface Body {
  readonly type: string;
}

export type Message<B extends Body> = Envelope & B;

// ---------------------------------------------------------------- messages every webview speaks

/** Host → webview: health check; the webview answers `pong` with `inReplyTo` set. */
export type CommonToWebview = { readonly type: 'ping'; readonly sentAt: number };

export type CommonToHost =
  /** First message of every webview, once its script has run and its listeners are attached. */
  | { readonly type: 'ready'; readonly view: string }
  /** Reply to `ping`; `heading` is the text the webview currently shows as its title, proving the DOM rendered. */
  | { readonly type: 'pong'; readonly sentAt: number; readonly heading: string }
  /** Errors and diagnostics from the webview, written to the extension's output channel. */
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string };

export type LogLevel = 'info' | 'warn' | 'error';

// ---------------------------------------------------------------- welcome panel

/** What the welcome panel shows about this installation. */
export interface WelcomeInfo {
  readonly extensionVersion: string;
  readonly vscodeVersion: string;
  /** `transformerExplorer.model` as configured (an id or a folder). */
  readonly model: string;
}

export type WelcomeToWebview = CommonToWebview | { readonly type: 'welcome/info'; readonly info: WelcomeInfo };

export type WelcomeToHost =
  | CommonToHost
  | { readonly type: 'welcome/openExplorer' }
  | { readonly type: 'welcome/openSettings' };

// ---------------------------------------------------------------- validation helpers

type Fields = Readonly<Record<string, unknown>>;
/** One validator per message type; `type` and the envelope are already checked when it runs. */
export type Validators<B extends Body> = { readonly [K in B['type']]: (m: Fields) => boolean };

export const isString = (x: unknown): x is string => typeof x === 'string';
export const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
export const isRecord = (x: unknown): x is Fields => typeof x === 'object' && x !== null && !Array.isArray(x);
/** Strings from a webview end up in logs and UI: bound them. */
export const isShortString = (x: unknown, max = 10_000): x is string => isString(x) && x.length <= max;

const MAX_ID_LENGTH = 64;

export function isEnvelope(x: unknown): x is Envelope & Body {
  if (!isRecord(x)) return false;
  if (x.v !== WEBVIEW_PROTOCOL_VERSION) return false;
  if (!isString(x.id) || x.id.length === 0 || x.id.length > MAX_ID_LENGTH) return false;
  if (x.inReplyTo !== undefined && (!isString(x.inReplyTo) || x.inReplyTo.length === 0 || x.inReplyTo.length > MAX_ID_LENGTH)) return false;
  return isString(x.type);
}

/** Why a value is not a valid message, for logs ('' when it is valid). */
export function explainInvalid<B extends Body>(x: unknown, validators: Validators<B>): string {
  if (!isRecord(x)) return 'not an object';
  if (x.v !== WEBVIEW_PROTOCOL_VERSION) return `protocol version ${JSON.stringify(x.v)} (expected ${WEBVIEW_PROTOCOL_VERSION})`;
  if (!isEnvelope(x)) return 'malformed envelope (id, inReplyTo or type)';
  const validate = Object.prototype.hasOwnProperty.call(validators, x.type)
    ? (validators as Record<string, (m: Fields) => boolean>)[x.type]
    : undefined;
  if (!validate) return `unknown message type '${x.type.slice(0, 80)}'`;
  return validate(x) ? '' : `malformed '${x.type}' message`;
}

export function makeGuard<B extends Body>(validators: Validators<B>): (x: unknown) => x is Message<B> {
  return (x: unknown): x is Message<B> => explainInvalid(x, validators) === '';
}

export interface Protocol<ToWebview extends Body, ToHost extends Body> {
  readonly toWebview: Validators<ToWebview>;
  readonly toHost: Validators<ToHost>;
  /** Run by the webview on every message from the host. */
  readonly isToWebview: (x: unknown) => x is Message<ToWebview>;
  /** Run by the extension host on every message from the webview. */
  readonly isToHost: (x: unknown) => x is Message<ToHost>;
}

export function defineProtocol<ToWebview extends Body, ToHost extends Body>(v: {
  toWebview: Validators<ToWebview>;
  toHost: Validators<ToHost>;
}): Protocol<ToWebview, ToHost> {
  return { ...v, isToWebview: makeGuard(v.toWebview), isToHost: makeGuard(v.toHost) };
}

/** For the `default:` of an exhaustive switch: fails to compile when a message type is not handled. */
export function assertNever(x: never): never {
  throw new Error(`Unhandled message: ${JSON.stringify(x)}`);
}

// ---------------------------------------------------------------- validator tables

export const commonToWebviewValidators: Validators<CommonToWebview> = {
  ping: (m) => isFiniteNumber(m.sentAt),
};

const LOG_LEVELS: readonly string[] = ['info', 'warn', 'error'] satisfies LogLevel[];

export const commonToHostValidators: Validators<CommonToHost> = {
  ready: (m) => isShortString(m.view, 100),
  pong: (m) => isFiniteNumber(m.sentAt) && isShortString(m.heading, 1000),
  log: (m) => isString(m.level) && LOG_LEVELS.includes(m.level) && isShortString(m.message),
};

export function isWelcomeInfo(x: unknown): x is WelcomeInfo {
  return isRecord(x) && isShortString(x.extensionVersion, 100) && isShortString(x.vscodeVersion, 100) && isShortString(x.model, 4096);
}

export const welcomeProtocol = defineProtocol<WelcomeToWebview, WelcomeToHost>({
  toWebview: { ...commonToWebviewValidators, 'welcome/info': (m) => isWelcomeInfo(m.info) },
  toHost: { ...commonToHostValidators, 'welcome/openExplorer': () => true, 'welcome/openSettings': () => true },
});

// ---------------------------------------------------------------- analysis views (tokens, attention, positional, predictions)
// Payloads and their guards live in views.ts; these are the envelope-level messages of the four view panels.

export type ViewsToWebview =
  | CommonToWebview
  /** Reply (inReplyTo = the request's id) to `view/request`. */
  | { readonly type: 'view/sliceResult'; readonly ok: true; readonly slice: unknown }
  | { readonly type: 'view/sliceResult'; readonly ok: false; readonly error: string }
  | { readonly type: 'view/notice'; readonly notice: HostNotice };

export type ViewsToHost =
  | CommonToHost
  | { readonly type: 'view/request'; readonly request: SliceRequest }
  | { readonly type: 'view/notice'; readonly notice: ViewNotice };

export const viewsProtocol = defineProtocol<ViewsToWebview, ViewsToHost>({
  toWebview: {
    ...commonToWebviewValidators,
    'view/sliceResult': (m) => (m.ok === true ? 'slice' in m : m.ok === false && isShortString(m.error)),
    'view/notice': (m) => isHostNotice(m.notice),
  },
  toHost: {
    ...commonToHostValidators,
    'view/request': (m) => isSliceRequest(m.request),
    'view/notice': (m) => isViewNotice(m.notice),
  },
});

// ---------------------------------------------------------------- endpoint

/** What the endpoint needs from its side of the channel: a way to send, and somewhere to report bad input. */
export interface EndpointTransport<Out extends Body> {
  send(message: Message<Out>): unknown;
  /** Called with every message that fails validation (it is then dropped). */
  onInvalid(reason: string, raw: unknown): void;
}

type Distribute<B> = B extends Body ? B : never;

/**
 * One side of a channel. `receive()` every raw message; valid replies to pending `request()`s resolve them, every
 * other valid message goes to `onMessage`; invalid ones go to `transport.onInvalid` and are dropped.
 */
export class MessageEndpoint<Out extends Body, In extends Body> {
  private nextId = 1;
  private readonly pending = new Map<string, { resolve: (m: Message<In>) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    /** Prefix of this side's ids ('host', 'welcome'…), which makes logs readable. */
    private readonly idPrefix: string,
    private readonly transport: EndpointTransport<Out>,
    private readonly isIn: (x: unknown) => x is Message<In>,
    private readonly inValidators: Validators<In>,
    private readonly onMessage: (message: Message<In>) => void,
  ) {}

  /** Sends a message and returns its id. */
  post(body: Distribute<Out>, inReplyTo?: string): string {
    return this.send(this.allocateId(), body, inReplyTo);
  }

  private allocateId(): string {
    return `${this.idPrefix}-${this.nextId++}`;
  }

  private send(id: string, body: Distribute<Out>, inReplyTo?: string): string {
    const message = { ...body, v: WEBVIEW_PROTOCOL_VERSION, id, ...(inReplyTo ? { inReplyTo } : {}) } as Message<Out>;
    this.transport.send(message);
    return id;
  }

  /** Sends a message and resolves with the first valid message whose `inReplyTo` is its id. */
  request<T extends In['type']>(body: Distribute<Out>, replyType: T, timeoutMs = 10_000): Promise<Message<Extract<In, { type: T }>>> {
    return new Promise((resolve, reject) => {
      const id = this.allocateId();
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`No '${replyType}' reply to '${body.type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (m) => (m.type === replyType
          ? resolve(m as Message<Extract<In, { type: T }>>)
          : reject(new Error(`Expected '${replyType}' in reply to '${body.type}', got '${m.type}'`))),
        reject,
        timer,
      });
      // Registered before sending, so even a synchronous reply finds its request.
      this.send(id, body);
    });
  }

  receive(raw: unknown): void {
    if (!this.isIn(raw)) {
      this.transport.onInvalid(explainInvalid(raw, this.inValidators), raw);
      return;
    }
    const waiting = raw.inReplyTo !== undefined ? this.pending.get(raw.inReplyTo) : undefined;
    if (waiting && raw.inReplyTo !== undefined) {
      clearTimeout(waiting.timer);
      this.pending.delete(raw.inReplyTo);
      waiting.resolve(raw);
      return;
    }
    this.onMessage(raw);
  }

  /** Rejects every pending request (the other side is gone). */
  dispose(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`Channel closed before a reply to ${id}`));
    }
    this.pending.clear();
  }
}
