// Cognito user pools (IdP) and identity pools over their JSON APIs, with plain fetch.
// These calls are unsigned: the user's password, tokens or identity id authorize them.

import { cognitoIdentityUrl, cognitoIdpUrl, loginProvider, type RegionConfig } from './config';
import type { AwsCredentials } from './sigv4';

export const COGNITO_TIMEOUT_MS = 8000;

/** A Cognito answer with an error type (NotAuthorizedException, InvalidPasswordException...). */
export class CognitoError extends Error {
  override name = 'CognitoError';
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The region's endpoint could not be reached: network error, timeout or a 5xx answer. */
export class RegionUnreachableError extends Error {
  override name = 'RegionUnreachableError';
  constructor(readonly region: string, detail?: string) {
    super(`Region ${region} cannot be reached${detail ? ` (${detail})` : ''}`);
  }
}

export interface CallOptions {
  fetchFn?: typeof fetch;
  timeoutMs?: number;
}

async function call<T>(
  url: string,
  region: string,
  target: string,
  body: unknown,
  { fetchFn = fetch, timeoutMs = COGNITO_TIMEOUT_MS }: CallOptions = {},
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target },
      body: JSON.stringify(body),
      signal: controller.signal,
      cache: 'no-store',
    });
  } catch (error) {
    throw new RegionUnreachableError(region, controller.signal.aborted ? 'timeout' : undefined);
  } finally {
    clearTimeout(timer);
  }
  let text = '';
  try {
    text = await response.text();
  } catch {
    throw new RegionUnreachableError(region);
  }
  let data: Record<string, unknown> = {};
  if (text) {
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch {
      data = {};
    }
  }
  if (response.ok) return data as T;
  const rawType =
    (typeof data.__type === 'string' && data.__type) || response.headers.get('x-amzn-ErrorType') || '';
  const type = rawType.replace(/^.*#/, '').replace(/:.*$/, '');
  const message =
    (typeof data.message === 'string' && data.message) ||
    (typeof data.Message === 'string' && data.Message) ||
    `${type || 'Error'} (HTTP ${response.status})`;
  if (response.status >= 500) throw new RegionUnreachableError(region, `HTTP ${response.status}`);
  throw new CognitoError(type || 'UnknownError', message, response.status);
}

export interface AuthTokens {
  idToken: string;
  accessToken: string;
  /** Absent on REFRESH_TOKEN_AUTH answers (the old one stays valid). */
  refreshToken?: string;
  /** Epoch ms when the id token expires. */
  expiresAt: number;
}

export type AuthResult =
  | { kind: 'tokens'; tokens: AuthTokens }
  | { kind: 'newPasswordRequired'; session: string; username: string }
  | { kind: 'challenge'; name: string };

interface InitiateAuthAnswer {
  AuthenticationResult?: { IdToken: string; AccessToken: string; RefreshToken?: string; ExpiresIn?: number };
  ChallengeName?: string;
  ChallengeParameters?: Record<string, string>;
  Session?: string;
}

function toResult(answer: InitiateAuthAnswer, username: string, now: number): AuthResult {
  const result = answer.AuthenticationResult;
  if (result?.IdToken) {
    const tokens: AuthTokens = {
      idToken: result.IdToken,
      accessToken: result.AccessToken,
      expiresAt: now + (result.ExpiresIn ?? 3600) * 1000,
    };
    if (result.RefreshToken) tokens.refreshToken = result.RefreshToken;
    return { kind: 'tokens', tokens };
  }
  if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED' && answer.Session) {
    const params = answer.ChallengeParameters ?? {};
    return {
      kind: 'newPasswordRequired',
      session: answer.Session,
      username: params.USER_ID_FOR_SRP || params.USERNAME || username,
    };
  }
  return { kind: 'challenge', name: answer.ChallengeName ?? 'unknown' };
}

const IDP = 'AWSCognitoIdentityProviderService';
const IDENTITY = 'AWSCognitoIdentityService';

export async function initiatePasswordAuth(
  region: RegionConfig,
  username: string,
  password: string,
  options?: CallOptions,
): Promise<AuthResult> {
  const answer = await call<InitiateAuthAnswer>(cognitoIdpUrl(region), region.region, `${IDP}.InitiateAuth`, {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: region.userPoolClientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  }, options);
  return toResult(answer, username, Date.now());
}

export async function respondNewPassword(
  region: RegionConfig,
  session: string,
  username: string,
  newPassword: string,
  options?: CallOptions,
): Promise<AuthResult> {
  const answer = await call<InitiateAuthAnswer>(
    cognitoIdpUrl(region),
    region.region,
    `${IDP}.RespondToAuthChallenge`,
    {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      ClientId: region.userPoolClientId,
      Session: session,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
    },
    options,
  );
  return toResult(answer, username, Date.now());
}

export async function refreshTokens(
  region: RegionConfig,
  refreshToken: string,
  options?: CallOptions,
): Promise<AuthTokens> {
  const answer = await call<InitiateAuthAnswer>(cognitoIdpUrl(region), region.region, `${IDP}.InitiateAuth`, {
    AuthFlow: 'REFRESH_TOKEN_AUTH',
    ClientId: region.userPoolClientId,
    AuthParameters: { REFRESH_TOKEN: refreshToken },
  }, options);
  const result = toResult(answer, '', Date.now());
  if (result.kind !== 'tokens') throw new CognitoError('NotAuthorizedException', 'Session refresh failed', 400);
  return result.tokens;
}

export async function getIdentityId(region: RegionConfig, idToken: string, options?: CallOptions): Promise<string> {
  const answer = await call<{ IdentityId?: string }>(
    cognitoIdentityUrl(region),
    region.region,
    `${IDENTITY}.GetId`,
    { IdentityPoolId: region.identityPoolId, Logins: { [loginProvider(region)]: idToken } },
    options,
  );
  if (!answer.IdentityId) throw new CognitoError('InvalidResponse', 'Cognito returned no identity id', 200);
  return answer.IdentityId;
}

function epochMs(value: unknown): number {
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') {
    const n = Number(value);
    if (Number.isFinite(n)) return epochMs(n);
    const parsed = Date.parse(value);
    if (Number.isFinite(parsed)) return parsed;
  }
  return Date.now() + 15 * 60 * 1000;
}

export async function getCredentials(
  region: RegionConfig,
  identityId: string,
  idToken: string,
  options?: CallOptions,
): Promise<AwsCredentials> {
  const answer = await call<{
    Credentials?: { AccessKeyId: string; SecretKey: string; SessionToken?: string; Expiration?: number | string };
  }>(
    cognitoIdentityUrl(region),
    region.region,
    `${IDENTITY}.GetCredentialsForIdentity`,
    { IdentityId: identityId, Logins: { [loginProvider(region)]: idToken } },
    options,
  );
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretKey) {
    throw new CognitoError('InvalidResponse', 'Cognito returned no credentials', 200);
  }
  const credentials: AwsCredentials = {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretKey,
    expiration: epochMs(c.Expiration),
  };
  if (c.SessionToken) credentials.sessionToken = c.SessionToken;
  return credentials;
}

/** What to tell the user about a sign-in failure. */
export function describeAuthError(error: unknown): string {
  if (error instanceof RegionUnreachableError) return error.message.replace(/ \(.*\)$/, '');
  if (error instanceof CognitoError) {
    switch (error.type) {
      case 'NotAuthorizedException':
      case 'UserNotFoundException':
        return 'Wrong username or password';
      case 'PasswordResetRequiredException':
        return 'A password reset is required for this account; ask an administrator.';
      case 'UserNotConfirmedException':
        return 'This account is not confirmed yet.';
      case 'TooManyRequestsException':
      case 'LimitExceededException':
        return 'Too many attempts; wait a moment and try again.';
      default:
        return error.message;
    }
  }
  return error instanceof Error ? error.message : String(error);
}
