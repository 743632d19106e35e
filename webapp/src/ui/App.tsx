import { useEffect, useMemo, useState } from 'react';
import { SessionManager, type Session } from '../auth';
import { loadUiConfig, type UiConfig } from '../config';
import { Banner } from './Banner';
import { PhotoApp } from './PhotoApp';
import { SignInForm } from './SignInForm';
import { useRouter } from './useRouter';

export function App() {
  const [config, setConfig] = useState<UiConfig | null>(null);
  const [configError, setConfigError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    loadUiConfig()
      .then((c) => !cancelled && setConfig(c))
      .catch((error: unknown) => !cancelled && setConfigError(error instanceof Error ? error.message : String(error)));
    return () => {
      cancelled = true;
    };
  }, []);

  if (configError) {
    return (
      <div className="page">
        <Banner status={{ kind: 'unknown' }} signedIn={false} checking={false} config={null} />
        <main className="main">
          <div className="card notice error" role="alert">
            <h1>The application cannot start</h1>
            <p>{configError}</p>
            <button type="button" className="button" onClick={() => window.location.reload()}>
              Try again
            </button>
          </div>
        </main>
      </div>
    );
  }
  if (!config) {
    return (
      <div className="page">
        <Banner status={{ kind: 'unknown' }} signedIn={false} checking config={null} />
        <main className="main">
          <p className="muted center" role="status">
            Loading…
          </p>
        </main>
      </div>
    );
  }
  return <Shell config={config} />;
}

function Shell({ config }: { config: UiConfig }) {
  const manager = useMemo(() => new SessionManager(config, window.sessionStorage), [config]);
  const [session, setSession] = useState<Session | null>(manager.session);
  const [signOutReason, setSignOutReason] = useState<string | null>(null);

  useEffect(
    () =>
      manager.subscribe((next, reason) => {
        setSession(next);
        if (!next) setSignOutReason(reason ?? null);
      }),
    [manager],
  );

  // One identity per session: a renewal keeps the router, a new sign-in replaces it.
  const signedInAs = session ? `${session.role}:${session.identityId}` : null;
  const { router, status, checking } = useRouter(config, manager, signedInAs);

  return (
    <div className="page">
      <Banner
        status={status}
        signedIn={Boolean(session)}
        checking={checking}
        config={config}
        onRetry={router ? () => void router.check() : undefined}
      />
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ◐
          </span>
          <span>Photos</span>
        </div>
        {session && (
          <div className="account">
            <span className="muted">
              Signed in as <strong>{session.username}</strong>
              <span className="hide-small"> via {session.region}</span>
            </span>
            <button type="button" className="button secondary" onClick={() => manager.signOut()}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main className="main">
        {session ? (
          router ? (
            <PhotoApp config={config} manager={manager} session={session} router={router} status={status} />
          ) : (
            <p className="muted center" role="status">
              Loading…
            </p>
          )
        ) : (
          <SignInForm
            config={config}
            notice={signOutReason}
            onSignedIn={(s) => {
              setSignOutReason(null);
              manager.setSession(s);
            }}
          />
        )}
      </main>
      <footer className="footer muted">
        multi-region-app · primary {config.primary.region} · secondary {config.secondary.region}
      </footer>
    </div>
  );
}
