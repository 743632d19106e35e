import { useEffect, useState } from 'react';
import { stateFetcher } from '../api';
import type { SessionManager } from '../auth';
import type { UiConfig } from '../config';
import { RegionRouter, type RouteStatus } from '../routing';

/** The region router of the signed-in session: started on sign-in, stopped on sign-out. */
export function useRouter(config: UiConfig, manager: SessionManager, sessionKey: string | null) {
  const [router, setRouter] = useState<RegionRouter | null>(null);
  const [status, setStatus] = useState<RouteStatus>({ kind: 'unknown' });
  const [checking, setChecking] = useState(false);

  useEffect(() => {
    if (!sessionKey) {
      setRouter(null);
      setStatus({ kind: 'unknown' });
      return;
    }
    const next = new RegionRouter({
      regions: { primary: config.primary.region, secondary: config.secondary.region },
      fetchState: stateFetcher(config, {
        credentials: () => manager.credentials(),
        renewCredentials: async () => {
          await manager.renew();
        },
      }),
    });
    const unsubscribe = next.subscribe((s) => {
      setStatus(s);
      setChecking(next.checking);
    });
    setRouter(next);
    setStatus(next.status);
    setChecking(true);
    next.start();
    return () => {
      unsubscribe();
      next.stop();
    };
  }, [config, manager, sessionKey]);

  return { router, status, checking };
}
