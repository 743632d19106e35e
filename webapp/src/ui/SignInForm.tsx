import { useId, useState, type FormEvent } from 'react';
import { SignInError, completeNewPassword, signIn, type Session } from '../auth';
import type { Role, UiConfig } from '../config';

interface Props {
  config: UiConfig;
  notice: string | null;
  onSignedIn: (session: Session) => void;
}

type Step =
  | { kind: 'password' }
  | { kind: 'newPassword'; role: Role; cognitoSession: string; username: string };

export function SignInForm({ config, notice, onSignedIn }: Props) {
  const id = useId();
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notices, setNotices] = useState<string[]>([]);

  async function submitPassword(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setNotices([]);
    try {
      const outcome = await signIn(config, username.trim(), password);
      setNotices(outcome.notices);
      if (outcome.kind === 'newPasswordRequired') {
        setStep({ kind: 'newPassword', role: outcome.role, cognitoSession: outcome.cognitoSession, username: outcome.username });
        setPassword('');
      } else {
        onSignedIn(outcome.session);
      }
    } catch (e) {
      if (e instanceof SignInError) setNotices(e.notices);
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  async function submitNewPassword(event: FormEvent) {
    event.preventDefault();
    if (busy || step.kind !== 'newPassword') return;
    setBusy(true);
    setError(null);
    try {
      const session = await completeNewPassword(config, step.role, step.cognitoSession, step.username, newPassword);
      onSignedIn(session);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const shownNotices = error ? notices.filter((n) => !error.includes(n)) : notices;

  return (
    <div className="signin card">
      {step.kind === 'password' ? (
        <form onSubmit={submitPassword} noValidate>
          <h1>Sign in</h1>
          <p className="muted">Share photos and comments. Your account works in both regions.</p>
          {notice && (
            <p className="notice warn" role="status">
              {notice}
            </p>
          )}
          <div className="field">
            <label htmlFor={`${id}-username`}>Username</label>
            <input
              id={`${id}-username`}
              name="username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              required
              autoFocus
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <input
              id={`${id}-password`}
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </div>
          {shownNotices.map((n) => (
            <p key={n} className="notice warn" role="status">
              {n}; trying the other region.
            </p>
          ))}
          {error && (
            <p className="notice error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button primary wide" disabled={busy || !username.trim() || !password}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      ) : (
        <form onSubmit={submitNewPassword} noValidate>
          <h1>Choose a new password</h1>
          <p className="muted">
            Your account <strong>{step.username}</strong> needs a new password before its first use.
          </p>
          <div className="field">
            <label htmlFor={`${id}-new-password`}>New password</label>
            <input
              id={`${id}-new-password`}
              name="new-password"
              type="password"
              autoComplete="new-password"
              value={newPassword}
              onChange={(e) => setNewPassword(e.target.value)}
              required
              autoFocus
            />
          </div>
          {error && (
            <p className="notice error" role="alert">
              {error}
            </p>
          )}
          <div className="row">
            <button type="submit" className="button primary" disabled={busy || !newPassword}>
              {busy ? 'Saving…' : 'Set new password'}
            </button>
            <button
              type="button"
              className="button secondary"
              onClick={() => {
                setStep({ kind: 'password' });
                setError(null);
                setNewPassword('');
              }}
            >
              Back
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
