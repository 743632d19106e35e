// Region routing: which region serves reads and which (if any) takes writes, from the
// application's routing state. Pure TypeScript: the state fetch and the clock are injected.
//
//   state     reads        writes
//   active    primary      primary
//   failover  secondary    secondary
//   fenced    the region   none ("The application is fenced for a region switch; writes are paused")
//             that answered
//
// The primary's state URL is asked first (short timeout); on an error, a timeout, a 5xx or an
// invalid answer, the secondary's. Both failing -> "unreachable" (writes refused, retried).
// The state is checked again every `pollMs`, before every write and after any API error.

import type { Role } from './config';

export type AppState = 'active' | 'fenced' | 'failover';
export const APP_STATES: readonly AppState[] = ['active', 'fenced', 'failover'];

export const FENCED_MESSAGE = 'The application is fenced for a region switch; writes are paused';
export const UNREACHABLE_MESSAGE = 'Neither region can be reached right now; writes are paused until one answers';

export const STATE_TIMEOUT_MS = 2000;
export const POLL_MS = 10_000;
export const RETRY_MS = 5_000;

export interface RegionRef {
  role: Role;
  region: string;
}

/** What a state URL answered: HTTP status and parsed JSON body (null if none). */
export interface StateAnswer {
  status: number;
  body: unknown;
}

/** GET the state URL of a region; must honour `signal` when possible. May throw (network error). */
export type FetchState = (role: Role, signal: AbortSignal) => Promise<StateAnswer>;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface Routing {
  state: AppState;
  version: number;
  /** The region whose state URL answered. */
  answeredBy: RegionRef;
  /** Where reads go. */
  read: RegionRef;
  /** Where writes go; null when fenced. */
  write: RegionRef | null;
  checkedAt: number;
}

export type FailureReason = 'timeout' | 'network' | 'http' | 'invalid';

export interface RegionFailure {
  role: Role;
  region: string;
  reason: FailureReason;
  status?: number;
  message: string;
}

export type RouteStatus =
  | { kind: 'unknown' }
  | { kind: 'ok'; routing: Routing; failures: RegionFailure[] }
  | { kind: 'unreachable'; failures: RegionFailure[]; checkedAt: number; last: Routing | null };

export class WriteRefusedError extends Error {
  override name = 'WriteRefusedError';
  constructor(
    readonly reason: 'fenced' | 'unreachable',
    message: string,
  ) {
    super(message);
  }
}

export type Regions = Record<Role, string>;

/** Where reads and writes go for a state. */
export function decide(state: AppState, answeredBy: Role, regions: Regions): { read: RegionRef; write: RegionRef | null } {
  const ref = (role: Role): RegionRef => ({ role, region: regions[role] });
  switch (state) {
    case 'active':
      return { read: ref('primary'), write: ref('primary') };
    case 'failover':
      return { read: ref('secondary'), write: ref('secondary') };
    case 'fenced':
      return { read: ref(answeredBy), write: null };
  }
}

/** Validate a state answer's body. */
export function parseStateBody(body: unknown): { state: AppState; version: number } | null {
  if (typeof body !== 'object' || body === null) return null;
  const { state, version } = body as { state?: unknown; version?: unknown };
  if (typeof state !== 'string' || !(APP_STATES as readonly string[]).includes(state)) return null;
  return { state: state as AppState, version: typeof version === 'number' && Number.isFinite(version) ? version : 0 };
}

/** The routing a status implies for the UI: the current one, or the last known while unreachable. */
export function currentRouting(status: RouteStatus): Routing | null {
  if (status.kind === 'ok') return status.routing;
  if (status.kind === 'unreachable') return status.last;
  return null;
}

/** True when reads moved to another region between two statuses. */
export function readRegionChanged(prev: RouteStatus, next: RouteStatus): boolean {
  const a = currentRouting(prev);
  const b = currentRouting(next);
  if (!b) return false;
  return !a || a.read.role !== b.read.role;
}

/** Can the UI write right now (before the write-time check)? */
export function writesAllowed(status: RouteStatus): boolean {
  return status.kind === 'ok' && status.routing.write !== null;
}

/** Why writes are disabled, or null when they are allowed. */
export function writeBlockReason(status: RouteStatus): string | null {
  if (status.kind === 'ok') return status.routing.write ? null : FENCED_MESSAGE;
  if (status.kind === 'unreachable') return UNREACHABLE_MESSAGE;
  return 'Checking the application state…';
}

class TimeoutError extends Error {}

export interface RouterOptions {
  regions: Regions;
  fetchState: FetchState;
  clock?: Clock;
  timeoutMs?: number;
  pollMs?: number;
  /** Delay of the next check while both regions are unreachable. */
  retryMs?: number;
}

export type RouteListener = (status: RouteStatus, previous: RouteStatus) => void;

export class RegionRouter {
  private readonly regions: Regions;
  private readonly fetchState: FetchState;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly retryMs: number;
  private current: RouteStatus = { kind: 'unknown' };
  private lastRouting: Routing | null = null;
  private readonly listeners = new Set<RouteListener>();
  private seq = 0;
  private appliedSeq = 0;
  private inFlight = 0;
  private recheckWanted = false;
  private pollHandle: unknown = null;
  private running = false;

  constructor(options: RouterOptions) {
    this.regions = options.regions;
    this.fetchState = options.fetchState;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? STATE_TIMEOUT_MS;
    this.pollMs = options.pollMs ?? POLL_MS;
    this.retryMs = options.retryMs ?? RETRY_MS;
  }

  get status(): RouteStatus {
    return this.current;
  }

  get checking(): boolean {
    return this.inFlight > 0;
  }

  subscribe(listener: RouteListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Check now and every pollMs (retryMs while unreachable) until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.pollOnce();
  }

  stop(): void {
    this.running = false;
    if (this.pollHandle !== null) this.clock.clearTimeout(this.pollHandle);
    this.pollHandle = null;
  }

  private async pollOnce(): Promise<void> {
    this.pollHandle = null;
    const status = await this.check();
    if (!this.running) return;
    if (this.pollHandle !== null) this.clock.clearTimeout(this.pollHandle);
    const delay = status.kind === 'unreachable' ? Math.min(this.retryMs, this.pollMs) : this.pollMs;
    this.pollHandle = this.clock.setTimeout(() => void this.pollOnce(), delay);
  }

  /** An API or network error happened: check the state again (coalesced with a check under way). */
  reportError(): void {
    if (this.inFlight > 0) {
      this.recheckWanted = true;
      return;
    }
    void this.check();
  }

  /**
   * The write-time check: asks the state now and returns the region to write to,
   * or throws WriteRefusedError (fenced, or both regions unreachable).
   */
  async beforeWrite(): Promise<RegionRef> {
    const status = await this.check();
    if (status.kind === 'ok') {
      if (status.routing.write) return status.routing.write;
      throw new WriteRefusedError('fenced', FENCED_MESSAGE);
    }
    throw new WriteRefusedError('unreachable', UNREACHABLE_MESSAGE);
  }

  /** Ask the state now (primary first, then secondary). Results older than one already applied are dropped. */
  async check(): Promise<RouteStatus> {
    const seq = ++this.seq;
    this.inFlight++;
    let next: RouteStatus;
    try {
      next = await this.resolve();
    } finally {
      this.inFlight--;
    }
    if (seq > this.appliedSeq) {
      this.appliedSeq = seq;
      this.apply(next);
    }
    if (this.inFlight === 0 && this.recheckWanted) {
      this.recheckWanted = false;
      void this.check();
    }
    // A newer check may have been applied meanwhile: callers get the freshest known status.
    return seq === this.appliedSeq ? next : this.current;
  }

  private apply(next: RouteStatus): void {
    const previous = this.current;
    this.current = next;
    if (next.kind === 'ok') this.lastRouting = next.routing;
    for (const listener of [...this.listeners]) {
      try {
        listener(next, previous);
      } catch {
        // a broken listener must not stop routing
      }
    }
  }

  private async resolve(): Promise<RouteStatus> {
    const failures: RegionFailure[] = [];
    for (const role of ['primary', 'secondary'] as const) {
      const outcome = await this.ask(role);
      if ('failure' in outcome) {
        failures.push(outcome.failure);
        continue;
      }
      const { state, version } = outcome;
      const answeredBy = { role, region: this.regions[role] };
      const { read, write } = decide(state, role, this.regions);
      return {
        kind: 'ok',
        routing: { state, version, answeredBy, read, write, checkedAt: this.clock.now() },
        failures,
      };
    }
    return { kind: 'unreachable', failures, checkedAt: this.clock.now(), last: this.lastRouting };
  }

  private async ask(role: Role): Promise<{ state: AppState; version: number } | { failure: RegionFailure }> {
    const region = this.regions[role];
    const controller = new AbortController();
    let handle: unknown = null;
    const fail = (reason: FailureReason, message: string, status?: number) => ({
      failure: { role, region, reason, message, ...(status !== undefined ? { status } : {}) },
    });
    try {
      const answer = await new Promise<StateAnswer>((resolve, reject) => {
        handle = this.clock.setTimeout(() => {
          controller.abort();
          reject(new TimeoutError());
        }, this.timeoutMs);
        this.fetchState(role, controller.signal).then(resolve, reject);
      });
      if (answer.status < 200 || answer.status >= 300) {
        const detail = extractMessage(answer.body);
        return fail('http', `Region ${region} answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`, answer.status);
      }
      const parsed = parseStateBody(answer.body);
      if (!parsed) return fail('invalid', `Region ${region} answered an invalid state`, answer.status);
      return parsed;
    } catch (error) {
      if (error instanceof TimeoutError || controller.signal.aborted) {
        return fail('timeout', `Region ${region} did not answer within ${this.timeoutMs / 1000} s`);
      }
      return fail('network', `Region ${region} cannot be reached`);
    } finally {
      if (handle !== null) this.clock.clearTimeout(handle);
    }
  }
}

function extractMessage(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { message, Message } = body as { message?: unknown; Message?: unknown };
    if (typeof message === 'string') return message;
    if (typeof Message === 'string') return Message;
  }
  return '';
}
