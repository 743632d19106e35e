import type { UiConfig } from '../config';
import { FENCED_MESSAGE, currentRouting, type RouteStatus } from '../routing';

interface Props {
  status: RouteStatus;
  signedIn: boolean;
  checking: boolean;
  config: UiConfig | null;
  onRetry?: (() => void) | undefined;
}

function explanation(status: RouteStatus, signedIn: boolean, config: UiConfig | null): string {
  if (!signedIn) return 'Sign in to see the application state and the region serving you.';
  if (status.kind === 'unknown') return 'Checking the application state…';
  const routing = currentRouting(status);
  if (status.kind === 'unreachable') {
    const last = routing ? ` Showing what was last loaded from ${routing.read.region}.` : '';
    return `Neither region can be reached right now; retrying automatically. Writes are paused.${last}`;
  }
  if (!routing) return '';
  const primary = config?.primary.region ?? 'primary';
  const secondary = config?.secondary.region ?? 'secondary';
  const primaryDown = status.kind === 'ok' && status.failures.some((f) => f.role === 'primary');
  switch (routing.state) {
    case 'active':
      if (primaryDown) {
        return `The state is active: the primary region (${primary}) serves reads and writes, but it cannot be reached right now. Waiting for it to come back or for an operator failover.`;
      }
      return `Normal operation: the primary region (${primary}) serves reads and writes.`;
    case 'failover':
      return `Failover: the secondary region (${secondary}) serves reads and writes.`;
    case 'fenced':
      return `${FENCED_MESSAGE}. Reading from ${routing.read.region}.`;
  }
}

/** The always-visible state banner: routing state, region in use and what it means. */
export function Banner({ status, signedIn, checking, config, onRetry }: Props) {
  const routing = currentRouting(status);
  const tone = status.kind === 'unreachable' ? 'down' : (routing?.state ?? 'unknown');
  const failures = status.kind === 'ok' ? status.failures : [];
  return (
    <section className={`banner banner-${tone}`} aria-label="Application state" aria-live="polite">
      <div className="banner-row">
        <span className="banner-item">
          <span className="banner-label">State</span>
          <strong className="pill" data-testid="app-state">
            {routing?.state ?? ''}
          </strong>
        </span>
        <span className="banner-item">
          <span className="banner-label">Region</span>
          <strong className="pill" data-testid="region">
            {routing?.read.region ?? ''}
          </strong>
        </span>
        <span className="banner-text">
          {explanation(status, signedIn, config)}
          {failures.length > 0 && (
            <span className="banner-sub">
              {' '}
              ({failures.map((f) => f.message).join('; ')}; state read from {routing?.answeredBy.region})
            </span>
          )}
        </span>
        {status.kind === 'unreachable' && onRetry && (
          <button type="button" className="button small" onClick={onRetry} disabled={checking}>
            Retry now
          </button>
        )}
      </div>
      {status.kind === 'unreachable' && (
        <p className="banner-error" role="alert">
          {status.failures.map((f) => f.message).join('. ')}.
        </p>
      )}
    </section>
  );
}
