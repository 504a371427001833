// TypeScript declarations of switchboard.js, the browser client of switchboard (docs/client.md).

export type TransportName = 'websocket' | 'sse' | 'long-polling';

/** A topic's place in its history: the last message seen (offset 0 before the first) within an epoch. */
export interface Position {
  offset: number;
  epoch: string;
}

/**
 * `idempotencyKey` (1-128 visible ASCII characters): the server publishes the message once however often it is
 * sent within its idempotency window, so a publish whose answer a lost connection took is sent again after the
 * reconnect instead of rejecting with `connection_lost`. Give each message its own key (a UUID).
 */
export interface PublishOptions { idempotencyKey?: string }
/** What a publish resolves to: where the message landed. */
export interface PublishResult extends Position {
  topic: string;
}

/** Passed with every message. */
export interface MessageMeta extends Position {
  topic: string;
  /** The transport that carried the message. */
  transport: TransportName | null;
}

export interface SwitchboardOptions {
  /** Transports in the order they are tried (default: all three, WebSocket first). */
  transports?: TransportName[];
  /** Sent as ?token= on every request, for the application's gateway or hooks. */
  token?: string;
  /** Endpoint paths, relative to the base URL (defaults /ws, /sse, /poll, /publish, /presence). */
  paths?: Partial<Record<TransportName | 'publish' | 'presence', string>>;
  /** Milliseconds a transport has to prove it works (a subscription acknowledged) before the next is tried (5000). */
  openTimeout?: number;
  /** Milliseconds a held poll takes to count the long-polling transport as open (1000). */
  pollOpenGrace?: number;
  /** Milliseconds a long poll may take in all before it is given up and reopened (60000; the server holds one 25 s). */
  pollTimeout?: number;
  /** Milliseconds without input after which a WebSocket is pinged; no answer within openTimeout: reconnect (25000, 0: off). */
  pingInterval?: number;
  /** Reconnect delay in milliseconds: doubles from initial (250) up to max (15000), with jitter. */
  backoff?: { initial?: number; max?: number };
  /** Publishes kept while no transport is open; past it publish() rejects (1000). */
  maxQueuedPublishes?: number;
}

export interface SubscribeOptions {
  /** Start from the first message the server's history keeps (history on join), not from now. */
  history?: boolean;
  /**
   * Delta updates: over WebSocket and SSE the server sends each message as a delta against the previous one
   * where that is smaller, and the client applies it before the handler sees the data (the same data as
   * without). For topics that carry successive versions of a document. Long polling gets full messages.
   */
  delta?: boolean;
  /**
   * Be a member of the topic's presence (docs/protocol.md, "Presence") and get its join and leave events
   * (over SSE and long polling a connection is a member of all its topics or none; long polling is a member but
   * gets no join and leave events: read members with presence()). A reconnect within the server's grace keeps
   * this client the same member: no leave and join; each poll takes the membership over from the one before.
   */
  presence?: boolean;
  /** Another member joined (presence: true). */
  onJoin?: (member: PresenceMember, topic: string) => void;
  /** A member left (presence: true). */
  onLeave?: (member: PresenceMember, topic: string) => void;
  /**
   * The topic has more members than the server sends join and leave events for (its presence.max_event_members):
   * its counts instead, at most every presence.counts_interval while members come and go. Read members with
   * presence(); once events come again, a member list read before them is stale.
   */
  onCounts?: (counts: PresenceCounts, topic: string) => void;
}

/** A topic's presence counts: present connections, and distinct users among them. */
export interface PresenceCounts {
  clients: number;
  users: number;
}

/** One member of a topic's presence. */
export interface PresenceMember {
  /** 32 hex digits the server made for the member's connection (the same after a reconnect within the grace). */
  client: string;
  /** The user id of its token ("sub"); "" when anonymous. */
  user: string;
  /** The token's "presence" claim (null without one). */
  info: unknown;
}

export interface ConnectingEvent { transport: TransportName; attempt: number }
export interface OpenEvent { transport: TransportName }
export interface FallbackEvent { from: TransportName; to: TransportName; reason: string }
/**
 * The connection was lost; `code` is the server's close code when it sent one: 1001, 4000-4499 (switchboard's)
 * or 3000-3499 (the application's "reconnect" range). The client reconnects after `delay` ms and resumes.
 */
export interface ReconnectingEvent { reason: string; code?: number; attempt: number; delay: number; transport: TransportName }
/**
 * The client stopped for good: close() (code 1000), or the server closed with a terminal code, 3500-3999 (the
 * application's) or 4500-4999 (switchboard's), whose reason is given. It does not reconnect.
 */
export interface ClosedEvent { code: number; reason: string }
/** A subscription acknowledged; `recovered: false` means messages after the old position are gone: refetch state. */
/**
 * A subscription acknowledged; `server: true` for a server-side subscription this client holds no handler for
 * (the token's "topics"), whose messages come as `message` events.
 */
export interface SubscribedEvent extends Position { topic: string; recovered?: boolean; server?: boolean }
/** A message of a topic this client holds no handler for: a server-side subscription. */
export interface MessageEvent extends MessageMeta { data: unknown }
/**
 * A pattern subscription acknowledged: `sequence` and `epoch` are the server's sequence now (the client resumes
 * the pattern from the last one it reached); on a resume `recovered: false` means some messages are gone, and
 * `lost` names the topics whose history no longer reached back.
 */
export interface PatternSubscribedEvent { pattern: string; sequence?: number; epoch?: string; recovered?: boolean; lost?: string[] }
/** A subscription refused: `topic`, or `pattern`. */
export interface ErrorEvent { topic?: string; pattern?: string; error: SwitchboardError }

export interface SwitchboardEventMap {
  connecting: ConnectingEvent;
  open: OpenEvent;
  fallback: FallbackEvent;
  reconnecting: ReconnectingEvent;
  closed: ClosedEvent;
  subscribed: SubscribedEvent | PatternSubscribedEvent;
  /** The server ended a subscription (its API's unsubscribe): it is dropped, and not resumed on reconnect. */
  unsubscribed: { topic?: string; pattern?: string };
  /** A message of a server-side subscription (a topic the server subscribed this client to, with no handler here). */
  message: MessageEvent;
  error: ErrorEvent;
  /** A member joined a topic this client is present in. */
  join: PresenceMember & { topic: string };
  /** A member left a topic this client is present in. */
  leave: PresenceMember & { topic: string };
  /** The counts of a topic too large for join and leave events (see onCounts). */
  presence_stats: PresenceCounts & { topic: string };
}

export type SwitchboardState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** True for a close code after which the client must not reconnect: 3500-3999 and 4500-4999. */
export function isTerminalCode(code: number | undefined): boolean;
/** True for a pattern (a name with a `*` or `>` token, which no topic has). */
export function isPattern(name: string): boolean;
/** Whether `topic` matches `pattern` (NATS semantics: `*` one token, a last `>` one or more). */
export function patternMatches(pattern: string, topic: string): boolean;

export class SwitchboardError extends Error {
  /** A protocol error code ("invalid_topic", "transport_disabled", ...) or "connection_lost", "closed", "queue_full". */
  code: string;
}

export class Switchboard extends EventTarget {
  constructor(url: string, options?: SwitchboardOptions);
  readonly state: SwitchboardState;
  /** The transport in use once open. */
  readonly transport: TransportName | null;

  /**
   * `data` is the message's JSON value, or a Uint8Array for a binary payload (on every transport). `topic` may be
   * a pattern (`sports.*`, `orders.>`): every message of a topic it matches, `meta.topic` naming the topic, on
   * every transport; after a reconnect what its topics got meanwhile comes first (patterns resume from the
   * server's sequence). A handler that holds a topic and patterns matching it gets each message once.
   */
  subscribe<T = unknown>(topic: string, onMessage?: (data: T, meta: MessageMeta) => void, options?: SubscribeOptions): () => void;
  unsubscribe(topic: string, onMessage?: (data: any, meta: MessageMeta) => void): void;
  /** Publishes a JSON value, or bytes (an ArrayBuffer, a typed array or a DataView) as a binary payload. */
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  /**
   * Every member of `topic`'s presence now, read a page at a time (the WebSocket command, else GET /presence).
   * While the client connects it waits for the connection to open (at most openTimeout).
   */
  presence(topic: string): Promise<PresenceMember[]>;
  close(): void;

  /** addEventListener with the event's detail; returns a function that removes the listener. */
  on<K extends keyof SwitchboardEventMap>(type: K, listener: (detail: SwitchboardEventMap[K], event: CustomEvent<SwitchboardEventMap[K]>) => void): () => void;
  addEventListener<K extends keyof SwitchboardEventMap>(type: K, listener: (event: CustomEvent<SwitchboardEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
}

export default Switchboard;
