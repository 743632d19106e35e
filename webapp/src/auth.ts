// Sign-in (user pool of the first region that answers), identity-pool credentials in the same
// region, renewal before expiry, and a session kept in sessionStorage across reloads.

import {
  CognitoError,
  RegionUnreachableError,
  describeAuthError,
  getCredentials,
  getIdentityId,
  initiatePasswordAuth,
  refreshTokens,
  respondNewPassword,
  type AuthTokens,
  type CallOptions,
} from './cognito';
import { ROLES, type Role, type UiConfig } from './config';
import { USERNAME_PATTERN } from './routes';
import type { AwsCredentials } from './sigv4';

/** Renew credentials / tokens this long before they expire. */
export const RENEW_MARGIN_MS = 5 * 60 * 1000;
export const SESSION_KEY = 'multi-region-app.session.v1';

export interface Session {
  /** The region whose user pool and identity pool issued this session. */
  role: Role;
  region: string;
  /** The user pool client the session belongs to (a new uiConfig invalidates old sessions). */
  clientId: string;
  username: string;
  /** The caller's identity id in this region's identity pool (another one in the other region). */
  identityId: string;
  /**
   * The author the server records: the user-pool username (`cognito:username` of the id token), the same
   * in both regions, so "by you" holds whichever region the user signed in through.
   */
  owner: string;
  idToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  tokenExpiresAt: number;
  credentials: AwsCredentials;
}

/** Sign-in failed; `notices` says which regions could not be reached on the way. */
export class SignInError extends Error {
  override name = 'SignInError';
  constructor(
    message: string,
    readonly notices: string[] = [],
  ) {
    super(message);
  }
}

/** The session could not be renewed: the user must sign in again. */
export class SessionExpiredError extends Error {
  override name = 'SessionExpiredError';
}

export type SignInOutcome =
  | { kind: 'signedIn'; session: Session; notices: string[] }
  | { kind: 'newPasswordRequired'; role: Role; cognitoSession: string; username: string; notices: string[] };

export interface AuthDeps extends CallOptions {
  now?: () => number;
}

/** The claims of a JWT (not verified: Cognito just issued it over TLS, and the server never trusts it). */
function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The owner value of an id token: its `cognito:username`, if it is one the app can use as an owner. */
export function ownerFromIdToken(idToken: string): string {
  const username = jwtClaims(idToken)['cognito:username'];
  if (typeof username !== 'string' || !username) {
    throw new SignInError('The sign-in answer has no user name (cognito:username); sign in again');
  }
  if (!USERNAME_PATTERN.test(username)) {
    throw new SignInError(
      `The user name "${username}" cannot own photos (lower-case letters, digits, ".", "_" and "-" only); ask an operator`,
    );
  }
  return username;
}

function unreachableNotice(error: RegionUnreachableError): string {
  return `Region ${error.region} cannot be reached`;
}

async function sessionFrom(
  config: UiConfig,
  role: Role,
  username: string,
  tokens: AuthTokens,
  deps: AuthDeps,
): Promise<Session> {
  const region = config[role];
  const owner = ownerFromIdToken(tokens.idToken);
  const identityId = await getIdentityId(region, tokens.idToken, deps);
  const credentials = await getCredentials(region, identityId, tokens.idToken, deps);
  const session: Session = {
    role,
    region: region.region,
    clientId: region.userPoolClientId,
    username,
    identityId,
    owner,
    idToken: tokens.idToken,
    tokenExpiresAt: tokens.expiresAt,
    credentials,
  };
  if (tokens.refreshToken) session.refreshToken = tokens.refreshToken;
  return session;
}

/**
 * Sign in with USER_PASSWORD_AUTH: the primary's user pool first; if a region cannot be reached,
 * the other one (users exist in both pools). Wrong credentials stop at once.
 */
export async function signIn(
  config: UiConfig,
  username: string,
  password: string,
  deps: AuthDeps = {},
  order: readonly Role[] = ROLES,
): Promise<SignInOutcome> {
  const notices: string[] = [];
  for (const role of order) {
    try {
      const result = await initiatePasswordAuth(config[role], username, password, deps);
      if (result.kind === 'newPasswordRequired') {
        return { kind: 'newPasswordRequired', role, cognitoSession: result.session, username: result.username, notices };
      }
      if (result.kind === 'challenge') {
        throw new SignInError(`This account needs a sign-in step the app does not support (${result.name})`, notices);
      }
      const session = await sessionFrom(config, role, username, result.tokens, deps);
      return { kind: 'signedIn', session, notices };
    } catch (error) {
      if (error instanceof RegionUnreachableError) {
        notices.push(unreachableNotice(error));
        continue;
      }
      if (error instanceof SignInError) throw error;
      throw new SignInError(describeAuthError(error), notices);
    }
  }
  throw new SignInError(notices.join('. '), notices);
}

/** Answer the NEW_PASSWORD_REQUIRED challenge, then finish signing in in the same region. */
export async function completeNewPassword(
  config: UiConfig,
  role: Role,
  cognitoSession: string,
  username: string,
  newPassword: string,
  deps: AuthDeps = {},
): Promise<Session> {
  try {
    const result = await respondNewPassword(config[role], cognitoSession, username, newPassword, deps);
    if (result.kind !== 'tokens') {
      throw new SignInError('Cognito asked for another sign-in step; sign in again');
    }
    return await sessionFrom(config, role, username, result.tokens, deps);
  } catch (error) {
    if (error instanceof SignInError) throw error;
    if (error instanceof CognitoError && error.type === 'NotAuthorizedException') {
      throw new SignInError('The sign-in session expired; sign in again');
    }
    throw new SignInError(describeAuthError(error));
  }
}

// ---- persistence ----

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  const c = s.credentials as Record<string, unknown> | undefined;
  return (
    (s.role === 'primary' || s.role === 'secondary') &&
    typeof s.region === 'string' &&
    typeof s.clientId === 'string' &&
    typeof s.username === 'string' &&
    typeof s.identityId === 'string' &&
    typeof s.owner === 'string' &&
    typeof s.idToken === 'string' &&
    typeof s.tokenExpiresAt === 'number' &&
    typeof c === 'object' &&
    c !== null &&
    typeof c.accessKeyId === 'string' &&
    typeof c.secretAccessKey === 'string'
  );
}

export function saveSession(store: KeyValueStore, session: Session): void {
  try {
    store.setItem(SESSION_KEY, JSON.stringify(session));
  } catch {
    // storage full or disabled: the session just does not survive a reload
  }
}

/** The stored session if it belongs to this configuration and can still be used or renewed. */
export function loadSession(store: KeyValueStore, config: UiConfig, now = Date.now()): Session | null {
  let value: unknown;
  try {
    const text = store.getItem(SESSION_KEY);
    if (!text) return null;
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isSession(value)) return null;
  const region = config[value.role];
  if (region.region !== value.region || region.userPoolClientId !== value.clientId) return null;
  const usable = (value.credentials.expiration ?? 0) > now || Boolean(value.refreshToken);
  return usable ? value : null;
}

export function clearSession(store: KeyValueStore): void {
  try {
    store.removeItem(SESSION_KEY);
  } catch {
    // nothing to clear
  }
}

function needsRenewal(session: Session, now: number): boolean {
  const credsExpire = session.credentials.expiration ?? 0;
  return credsExpire - now < RENEW_MARGIN_MS || session.tokenExpiresAt - now < RENEW_MARGIN_MS;
}

/** Fresh tokens (refresh token) and credentials for a session, in the session's region. */
export async function renewSession(config: UiConfig, session: Session, deps: AuthDeps = {}): Promise<Session> {
  if (!session.refreshToken) throw new SessionExpiredError('Your session expired; sign in again');
  const region = config[session.role];
  let tokens: AuthTokens;
  try {
    tokens = await refreshTokens(region, session.refreshToken, deps);
  } catch (error) {
    if (error instanceof CognitoError) throw new SessionExpiredError('Your session expired; sign in again');
    throw error;
  }
  const credentials = await getCredentials(region, session.identityId, tokens.idToken, deps);
  return {
    ...session,
    idToken: tokens.idToken,
    tokenExpiresAt: tokens.expiresAt,
    refreshToken: tokens.refreshToken ?? session.refreshToken,
    credentials,
  };
}

export type SessionListener = (session: Session | null, reason?: string) => void;

/** Holds the signed-in session; hands out valid credentials, renewing them before they expire. */
export class SessionManager {
  private current: Session | null;
  private renewing: Promise<Session> | null = null;
  private readonly listeners = new Set<SessionListener>();

  constructor(
    private readonly config: UiConfig,
    private readonly store: KeyValueStore,
    private readonly deps: AuthDeps = {},
  ) {
    this.current = loadSession(store, config, this.now());
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  get session(): Session | null {
    return this.current;
  }

  subscribe(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(reason?: string): void {
    for (const listener of [...this.listeners]) listener(this.current, reason);
  }

  setSession(session: Session): void {
    this.current = session;
    saveSession(this.store, session);
    this.emit();
  }

  signOut(reason?: string): void {
    this.current = null;
    this.renewing = null;
    clearSession(this.store);
    this.emit(reason);
  }

  /** Valid credentials; renews them first when they expire within RENEW_MARGIN_MS. */
  async credentials(): Promise<AwsCredentials> {
    const session = this.current;
    if (!session) throw new SessionExpiredError('Not signed in');
    if (!needsRenewal(session, this.now())) return session.credentials;
    try {
      return (await this.renew()).credentials;
    } catch (error) {
      // Renewal failed for a transient reason: keep going while the old credentials last.
      if (!(error instanceof SessionExpiredError) && (session.credentials.expiration ?? 0) > this.now()) {
        return session.credentials;
      }
      throw error;
    }
  }

  /** Renew now (single flight). A failure that needs a new sign-in signs out with a reason. */
  renew(): Promise<Session> {
    const session = this.current;
    if (!session) return Promise.reject(new SessionExpiredError('Not signed in'));
    if (!this.renewing) {
      this.renewing = renewSession(this.config, session, this.deps)
        .then((next) => {
          if (this.current && this.current.identityId === session.identityId) this.setSession(next);
          return next;
        })
        .catch((error: unknown) => {
          const expired = (session.credentials.expiration ?? 0) <= this.now();
          if (error instanceof SessionExpiredError) {
            this.signOut(error.message);
          } else if (expired) {
            const message =
              error instanceof RegionUnreachableError
                ? `Your session expired and region ${error.region} cannot be reached to renew it; sign in again`
                : 'Your session expired; sign in again';
            this.signOut(message);
            throw new SessionExpiredError(message);
          }
          throw error;
        })
        .finally(() => {
          this.renewing = null;
        });
    }
    return this.renewing;
  }
}
