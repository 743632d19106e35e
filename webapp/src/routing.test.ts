import { describe, expect, it } from 'vitest';
import type { Role } from './config';
import {
  FENCED_MESSAGE,
  RegionRouter,
  UNREACHABLE_MESSAGE,
  WriteRefusedError,
  currentRouting,
  decide,
  parseStateBody,
  readRegionChanged,
  writeBlockReason,
  writesAllowed,
  type AppState,
  type FetchState,
  type RouteStatus,
  type StateAnswer,
} from './routing';
import { FakeClock, flush } from './testing/fakes';

const REGIONS = { primary: 'us-east-1', secondary: 'ap-northeast-1' };

/** How a region's state URL behaves. */
type Behavior =
  | { state: AppState | string; version?: number }
  | { status: number; body?: unknown }
  | 'down' // network error
  | 'hang' // never answers, honours abort
  | 'hang-ignoring-abort'; // never answers, ignores abort

function stateServer(initial: Record<Role, Behavior>) {
  const behaviors = { ...initial };
  const calls: Role[] = [];
  const signals: AbortSignal[] = [];
  const fetchState: FetchState = (role, signal) => {
    calls.push(role);
    signals.push(signal);
    const b = behaviors[role];
    if (b === 'down') return Promise.reject(new TypeError('Failed to fetch'));
    if (b === 'hang') {
      return new Promise<StateAnswer>((_, reject) =>
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    }
    if (b === 'hang-ignoring-abort') return new Promise<StateAnswer>(() => {});
    if ('status' in b) return Promise.resolve({ status: b.status, body: b.body ?? null });
    return Promise.resolve({ status: 200, body: { state: b.state, version: b.version ?? 1 } });
  };
  return {
    fetchState,
    calls,
    signals,
    set(role: Role, behavior: Behavior) {
      behaviors[role] = behavior;
    },
  };
}

function makeRouter(initial: Record<Role, Behavior>) {
  const clock = new FakeClock();
  const server = stateServer(initial);
  const router = new RegionRouter({ regions: REGIONS, fetchState: server.fetchState, clock });
  return { clock, server, router };
}

function ok(status: RouteStatus) {
  if (status.kind !== 'ok') throw new Error(`expected ok, got ${status.kind}`);
  return status.routing;
}

describe('decide', () => {
  it('active: reads and writes in the primary', () => {
    expect(decide('active', 'primary', REGIONS)).toEqual({
      read: { role: 'primary', region: 'us-east-1' },
      write: { role: 'primary', region: 'us-east-1' },
    });
    // Whoever answered, active means the primary.
    expect(decide('active', 'secondary', REGIONS).read.role).toBe('primary');
  });

  it('failover: reads and writes in the secondary', () => {
    for (const answeredBy of ['primary', 'secondary'] as const) {
      expect(decide('failover', answeredBy, REGIONS)).toEqual({
        read: { role: 'secondary', region: 'ap-northeast-1' },
        write: { role: 'secondary', region: 'ap-northeast-1' },
      });
    }
  });

  it('fenced: reads from the region that answered, no writes', () => {
    expect(decide('fenced', 'primary', REGIONS)).toEqual({ read: { role: 'primary', region: 'us-east-1' }, write: null });
    expect(decide('fenced', 'secondary', REGIONS)).toEqual({
      read: { role: 'secondary', region: 'ap-northeast-1' },
      write: null,
    });
  });
});

describe('parseStateBody', () => {
  it('accepts the three states', () => {
    expect(parseStateBody({ state: 'active', version: 3 })).toEqual({ state: 'active', version: 3 });
    expect(parseStateBody({ state: 'fenced', version: 0 })).toEqual({ state: 'fenced', version: 0 });
    expect(parseStateBody({ state: 'failover' })).toEqual({ state: 'failover', version: 0 });
  });

  it('rejects anything else', () => {
    expect(parseStateBody(null)).toBeNull();
    expect(parseStateBody('active')).toBeNull();
    expect(parseStateBody({ state: 'ACTIVE' })).toBeNull();
    expect(parseStateBody({ state: 'passive', version: 1 })).toBeNull();
    expect(parseStateBody({ code: 'NOT_FOUND', message: 'unknown application id' })).toBeNull();
  });
});

describe('RegionRouter.check: every state', () => {
  it('active -> primary for reads and writes, only the primary asked', async () => {
    const { router, server } = makeRouter({ primary: { state: 'active', version: 7 }, secondary: { state: 'active' } });
    const routing = ok(await router.check());
    expect(routing.state).toBe('active');
    expect(routing.version).toBe(7);
    expect(routing.answeredBy).toEqual({ role: 'primary', region: 'us-east-1' });
    expect(routing.read.region).toBe('us-east-1');
    expect(routing.write?.region).toBe('us-east-1');
    expect(server.calls).toEqual(['primary']);
    expect(writesAllowed(router.status)).toBe(true);
    expect(writeBlockReason(router.status)).toBeNull();
  });

  it('failover -> secondary for reads and writes', async () => {
    const { router } = makeRouter({ primary: { state: 'failover' }, secondary: { state: 'failover' } });
    const routing = ok(await router.check());
    expect(routing.state).toBe('failover');
    expect(routing.read).toEqual({ role: 'secondary', region: 'ap-northeast-1' });
    expect(routing.write).toEqual({ role: 'secondary', region: 'ap-northeast-1' });
  });

  it('fenced -> reads from the primary that answered, writes disabled with the explanation', async () => {
    const { router } = makeRouter({ primary: { state: 'fenced' }, secondary: { state: 'fenced' } });
    const routing = ok(await router.check());
    expect(routing.state).toBe('fenced');
    expect(routing.read.region).toBe('us-east-1');
    expect(routing.write).toBeNull();
    expect(writesAllowed(router.status)).toBe(false);
    expect(writeBlockReason(router.status)).toBe(FENCED_MESSAGE);
    expect(FENCED_MESSAGE).toBe('The application is fenced for a region switch; writes are paused');
  });

  it('fenced with the primary down -> reads from the secondary', async () => {
    const { router } = makeRouter({ primary: 'down', secondary: { state: 'fenced' } });
    const routing = ok(await router.check());
    expect(routing.read).toEqual({ role: 'secondary', region: 'ap-northeast-1' });
    expect(routing.answeredBy.role).toBe('secondary');
    expect(routing.write).toBeNull();
  });

  it('before any check the status is unknown and writes are not allowed', () => {
    const { router } = makeRouter({ primary: { state: 'active' }, secondary: { state: 'active' } });
    expect(router.status).toEqual({ kind: 'unknown' });
    expect(writesAllowed(router.status)).toBe(false);
    expect(currentRouting(router.status)).toBeNull();
  });
});

describe('RegionRouter.check: the primary failing -> the secondary', () => {
  it('network error', async () => {
    const { router, server } = makeRouter({ primary: 'down', secondary: { state: 'failover' } });
    const status = await router.check();
    const routing = ok(status);
    expect(server.calls).toEqual(['primary', 'secondary']);
    expect(routing.read.region).toBe('ap-northeast-1');
    expect(routing.write?.region).toBe('ap-northeast-1');
    expect(status.kind === 'ok' && status.failures).toEqual([
      { role: 'primary', region: 'us-east-1', reason: 'network', message: 'Region us-east-1 cannot be reached' },
    ]);
  });

  it('timeout after 2 s (the request is aborted)', async () => {
    const { router, server, clock } = makeRouter({ primary: 'hang', secondary: { state: 'failover' } });
    const pending = router.check();
    await clock.advance(1999);
    expect(server.calls).toEqual(['primary']);
    expect(router.status.kind).toBe('unknown');
    await clock.advance(1);
    const status = await pending;
    expect(server.calls).toEqual(['primary', 'secondary']);
    expect(server.signals[0]!.aborted).toBe(true);
    expect(ok(status).read.region).toBe('ap-northeast-1');
    expect(status.kind === 'ok' && status.failures[0]!.reason).toBe('timeout');
  });

  it('timeout even when the fetch ignores the abort signal', async () => {
    const { router, clock } = makeRouter({ primary: 'hang-ignoring-abort', secondary: { state: 'fenced' } });
    const pending = router.check();
    await clock.advance(2000);
    const routing = ok(await pending);
    expect(routing.answeredBy.role).toBe('secondary');
    expect(routing.read.region).toBe('ap-northeast-1');
  });

  it('a custom timeout is honoured', async () => {
    const clock = new FakeClock();
    const server = stateServer({ primary: 'hang', secondary: { state: 'active' } });
    const router = new RegionRouter({ regions: REGIONS, fetchState: server.fetchState, clock, timeoutMs: 500 });
    const pending = router.check();
    await clock.advance(500);
    expect(ok(await pending).answeredBy.role).toBe('secondary');
  });

  it.each([500, 502, 503, 504])('HTTP %i', async (code) => {
    const { router, server } = makeRouter({
      primary: { status: code, body: { code: 'UNAVAILABLE', message: 'The database is unavailable' } },
      secondary: { state: 'active' },
    });
    const status = await router.check();
    expect(server.calls).toEqual(['primary', 'secondary']);
    // active still means the primary, even when the state came from the secondary
    expect(ok(status).read.region).toBe('us-east-1');
    expect(status.kind === 'ok' && status.failures[0]).toMatchObject({ reason: 'http', status: code });
    expect(status.kind === 'ok' && status.failures[0]!.message).toContain('The database is unavailable');
  });

  it('a 4xx or an invalid answer also falls back', async () => {
    const { router } = makeRouter({ primary: { status: 403, body: { message: 'Forbidden' } }, secondary: { state: 'failover' } });
    expect(ok(await router.check()).read.region).toBe('ap-northeast-1');
    const second = makeRouter({ primary: { status: 200, body: { nope: true } }, secondary: { state: 'fenced' } });
    const status = await second.router.check();
    expect(ok(status).answeredBy.role).toBe('secondary');
    expect(status.kind === 'ok' && status.failures[0]!.reason).toBe('invalid');
  });
});

describe('RegionRouter.check: both regions unreachable', () => {
  it('both down -> unreachable with both reasons, writes refused', async () => {
    const { router, server } = makeRouter({ primary: 'down', secondary: { status: 503 } });
    const status = await router.check();
    expect(status.kind).toBe('unreachable');
    expect(server.calls).toEqual(['primary', 'secondary']);
    if (status.kind !== 'unreachable') throw new Error();
    expect(status.failures.map((f) => [f.region, f.reason])).toEqual([
      ['us-east-1', 'network'],
      ['ap-northeast-1', 'http'],
    ]);
    expect(status.last).toBeNull();
    expect(writeBlockReason(status)).toBe(UNREACHABLE_MESSAGE);
    await expect(router.beforeWrite()).rejects.toMatchObject({ name: 'WriteRefusedError', reason: 'unreachable' });
  });

  it('both hanging -> unreachable after two timeouts (4 s)', async () => {
    const { router, clock } = makeRouter({ primary: 'hang', secondary: 'hang' });
    const pending = router.check();
    await clock.advance(2000);
    expect(router.status.kind).toBe('unknown');
    await clock.advance(2000);
    expect((await pending).kind).toBe('unreachable');
  });

  it('keeps the last known routing for reads while unreachable, then recovers on retry', async () => {
    const { router, server, clock } = makeRouter({ primary: { state: 'active' }, secondary: { state: 'active' } });
    router.start();
    await clock.advance(0);
    expect(ok(router.status).state).toBe('active');
    server.set('primary', 'down');
    server.set('secondary', 'down');
    await clock.advance(10_000);
    const down = router.status;
    expect(down.kind).toBe('unreachable');
    expect(currentRouting(down)?.read.region).toBe('us-east-1');
    expect(readRegionChanged({ kind: 'ok', routing: currentRouting(down)!, failures: [] }, down)).toBe(false);
    // while unreachable, the next attempt comes sooner (5 s)
    server.set('primary', { state: 'active' });
    await clock.advance(5_000);
    expect(ok(router.status).state).toBe('active');
    router.stop();
  });
});

describe('RegionRouter: the state changing under an open page', () => {
  it('active -> fenced -> failover -> fenced -> active, polled every 10 s, switching regions without reload', async () => {
    const { router, server, clock } = makeRouter({ primary: { state: 'active', version: 1 }, secondary: { state: 'active', version: 1 } });
    const seen: { state: string; read: string; write: string | null; switched: boolean }[] = [];
    router.subscribe((status, previous) => {
      const r = currentRouting(status)!;
      seen.push({ state: r.state, read: r.read.region, write: r.write?.region ?? null, switched: readRegionChanged(previous, status) });
    });
    router.start();
    await clock.advance(0);

    const setBoth = (state: AppState, version: number) => {
      server.set('primary', { state, version });
      server.set('secondary', { state, version });
    };

    setBoth('fenced', 2);
    await clock.advance(9_999);
    expect(seen).toHaveLength(1); // not yet: polls are 10 s apart
    await clock.advance(1);
    setBoth('failover', 3);
    // the primary goes down during the failover
    server.set('primary', 'down');
    await clock.advance(10_000);
    setBoth('fenced', 4);
    server.set('primary', 'down');
    await clock.advance(10_000);
    // the primary is back before going active again
    setBoth('active', 5);
    await clock.advance(10_000);

    expect(seen).toEqual([
      { state: 'active', read: 'us-east-1', write: 'us-east-1', switched: true },
      { state: 'fenced', read: 'us-east-1', write: null, switched: false },
      { state: 'failover', read: 'ap-northeast-1', write: 'ap-northeast-1', switched: true },
      { state: 'fenced', read: 'ap-northeast-1', write: null, switched: false },
      { state: 'active', read: 'us-east-1', write: 'us-east-1', switched: true },
    ]);
    expect(ok(router.status).version).toBe(5);
    router.stop();
  });

  it('fenced read from the primary after a failover switches reads back to the primary', async () => {
    const { router, server, clock } = makeRouter({ primary: { state: 'failover' }, secondary: { state: 'failover' } });
    const switches: string[] = [];
    router.subscribe((status, previous) => {
      if (readRegionChanged(previous, status)) switches.push(currentRouting(status)!.read.region);
    });
    router.start();
    await clock.advance(0);
    server.set('primary', { state: 'fenced' });
    await clock.advance(10_000);
    expect(switches).toEqual(['ap-northeast-1', 'us-east-1']);
    router.stop();
  });

  it('stop() ends polling', async () => {
    const { router, server, clock } = makeRouter({ primary: { state: 'active' }, secondary: { state: 'active' } });
    router.start();
    await clock.advance(0);
    router.stop();
    await clock.advance(60_000);
    expect(server.calls).toEqual(['primary']);
    expect(clock.pending).toBe(0);
  });

  it('start() twice does not double the polling', async () => {
    const { router, server, clock } = makeRouter({ primary: { state: 'active' }, secondary: { state: 'active' } });
    router.start();
    router.start();
    await clock.advance(30_000);
    expect(server.calls).toHaveLength(4); // t=0, 10, 20, 30 s
    router.stop();
  });
});

describe('RegionRouter.reportError: check again after an API or network error', () => {
  it('an error triggers an immediate check that sees the new state', async () => {
    const { router, server, clock } = makeRouter({ primary: { state: 'active' }, secondary: { state: 'active' } });
    router.start();
    await clock.advance(0);
    server.set('primary', 'down');
    server.set('secondary', { state: 'failover' });
    router.reportError();
    await flush();
    expect(ok(router.status).read.region).toBe('ap-northeast-1');
    expect(server.calls).toEqual(['primary', 'primary', 'secondary']);
    router.stop();
  });

  it('errors during a check are coalesced into one more check', async () => {
    const { router, server, clock } = makeRouter({ primary: 'hang', secondary: { state: 'active' } });
    const first = router.check();
    router.reportError();
    router.reportError();
    router.reportError();
    server.set('primary', { state: 'fenced' });
    await clock.advance(2000);
    await first;
    await flush();
    // the first check (primary timed out, secondary asked) then exactly one re-check
    expect(server.calls).toEqual(['primary', 'secondary', 'primary']);
    expect(ok(router.status).state).toBe('fenced');
  });
});

describe('RegionRouter.beforeWrite: the write-time check', () => {
  it('refuses a write when the state became fenced since the last poll', async () => {
    const { router, server } = makeRouter({ primary: { state: 'active' }, secondary: { state: 'active' } });
    await router.check();
    expect(writesAllowed(router.status)).toBe(true);
    server.set('primary', { state: 'fenced' });
    const refusal = router.beforeWrite();
    await expect(refusal).rejects.toBeInstanceOf(WriteRefusedError);
    await expect(refusal).rejects.toMatchObject({ reason: 'fenced', message: FENCED_MESSAGE });
    expect(server.calls).toEqual(['primary', 'primary']); // it asked again right before the write
    expect(ok(router.status).state).toBe('fenced');
  });

  it('returns the primary when active and the secondary when failover', async () => {
    const { router, server } = makeRouter({ primary: { state: 'active' }, secondary: { state: 'active' } });
    await expect(router.beforeWrite()).resolves.toEqual({ role: 'primary', region: 'us-east-1' });
    server.set('primary', { state: 'failover' });
    await expect(router.beforeWrite()).resolves.toEqual({ role: 'secondary', region: 'ap-northeast-1' });
  });

  it('after a failover the write goes to the secondary even with the primary down', async () => {
    const { router } = makeRouter({ primary: 'down', secondary: { state: 'failover' } });
    await expect(router.beforeWrite()).resolves.toEqual({ role: 'secondary', region: 'ap-northeast-1' });
  });

  it('a stale answer never overrides a newer one', async () => {
    let release: ((a: StateAnswer) => void) | null = null;
    let n = 0;
    const clock = new FakeClock();
    const fetchState: FetchState = () => {
      n++;
      if (n === 1) return new Promise<StateAnswer>((resolve) => (release = resolve)); // slow, says active
      return Promise.resolve({ status: 200, body: { state: 'fenced', version: 2 } });
    };
    const router = new RegionRouter({ regions: REGIONS, fetchState, clock });
    const slow = router.check();
    await expect(router.beforeWrite()).rejects.toMatchObject({ reason: 'fenced' });
    release!({ status: 200, body: { state: 'active', version: 1 } });
    const result = await slow;
    // the late "active" is dropped: the caller gets the newer fenced status
    expect(ok(result).state).toBe('fenced');
    expect(ok(router.status).state).toBe('fenced');
  });
});
