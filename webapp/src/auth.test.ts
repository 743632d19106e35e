import { describe, expect, it } from 'vitest';
import {
  SESSION_KEY,
  SessionManager,
  SignInError,
  completeNewPassword,
  loadSession,
  ownerFromIdToken,
  saveSession,
  signIn,
  type KeyValueStore,
  type Session,
} from './auth';
import { CognitoError, RegionUnreachableError, describeAuthError, getCredentials, initiatePasswordAuth } from './cognito';
import { fakeIdToken, hang, jsonResponse, scriptedFetch, testConfig, type RecordedCall } from './testing/fakes';

const config = testConfig();
const sandbox = testConfig(true);

function target(call: RecordedCall): string {
  return call.headers['x-amz-target'] ?? '';
}

/** A Cognito of two regions: `down` regions fail at the network level. */
function cognito(options: {
  down?: string[];
  hangs?: string[];
  password?: string;
  newPasswordRequired?: boolean;
  expiration?: number | string;
  username?: string;
} = {}) {
  const password = options.password ?? 'Correct-horse-1';
  return scriptedFetch((call, signal) => {
    const host = new URL(call.url).host;
    const region = host.includes('ap-northeast-1') || host.endsWith(':4568') ? 'ap-northeast-1' : 'us-east-1';
    if (options.down?.includes(region)) throw new TypeError('Failed to fetch');
    if (options.hangs?.includes(region)) return hang(signal);
    const body = call.json as Record<string, any>;
    switch (target(call)) {
      case 'AWSCognitoIdentityProviderService.InitiateAuth':
        if (body.AuthFlow === 'REFRESH_TOKEN_AUTH') {
          if (body.AuthParameters.REFRESH_TOKEN !== `refresh-${region}`) {
            return jsonResponse(400, { __type: 'NotAuthorizedException', message: 'Invalid Refresh Token' });
          }
          return jsonResponse(200, { AuthenticationResult: { IdToken: fakeIdToken(`id2-${region}`), AccessToken: 'a2', ExpiresIn: 3600 } });
        }
        if (body.AuthParameters.PASSWORD !== password) {
          return jsonResponse(400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' });
        }
        if (options.newPasswordRequired) {
          return jsonResponse(200, { ChallengeName: 'NEW_PASSWORD_REQUIRED', ChallengeParameters: { USER_ID_FOR_SRP: 'alice' }, Session: 'sess-1' });
        }
        return jsonResponse(200, {
          AuthenticationResult: { IdToken: fakeIdToken(`id-${region}`, options.username), AccessToken: 'a', RefreshToken: `refresh-${region}`, ExpiresIn: 3600 },
        });
      case 'AWSCognitoIdentityProviderService.RespondToAuthChallenge':
        if (body.Session !== 'sess-1') return jsonResponse(400, { __type: 'NotAuthorizedException', message: 'Invalid session' });
        if (String(body.ChallengeResponses.NEW_PASSWORD).length < 8) {
          return jsonResponse(400, { __type: 'InvalidPasswordException', message: 'Password does not conform to policy: too short' });
        }
        return jsonResponse(200, { AuthenticationResult: { IdToken: fakeIdToken(`id-${region}`, options.username), AccessToken: 'a', RefreshToken: `refresh-${region}`, ExpiresIn: 3600 } });
      case 'AWSCognitoIdentityService.GetId':
        return jsonResponse(200, { IdentityId: `${region}:identity-uuid` });
      case 'AWSCognitoIdentityService.GetCredentialsForIdentity':
        return jsonResponse(200, {
          IdentityId: body.IdentityId,
          Credentials: { AccessKeyId: `AKID-${region}`, SecretKey: 'secret', SessionToken: 'token', Expiration: options.expiration ?? 1_900_000_000 },
        });
      default:
        return jsonResponse(400, { __type: 'UnknownOperationException' });
    }
  });
}

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

describe('Cognito JSON calls', () => {
  it('InitiateAuth USER_PASSWORD_AUTH: unsigned JSON POST to the region endpoint', async () => {
    const { fetch, calls } = cognito();
    await initiatePasswordAuth(config.primary, 'alice', 'Correct-horse-1', { fetchFn: fetch });
    expect(calls[0]!.url).toBe('https://cognito-idp.us-east-1.amazonaws.com/');
    expect(calls[0]!.method).toBe('POST');
    expect(calls[0]!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(calls[0]!.headers['x-amz-target']).toBe('AWSCognitoIdentityProviderService.InitiateAuth');
    expect(calls[0]!.headers.authorization).toBeUndefined();
    expect(calls[0]!.json).toEqual({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: 'client-a',
      AuthParameters: { USERNAME: 'alice', PASSWORD: 'Correct-horse-1' },
    });
  });

  it('the sandbox endpoint replaces the AWS endpoints', async () => {
    const { fetch, calls } = cognito();
    await signIn(sandbox, 'alice', 'Correct-horse-1', { fetchFn: fetch });
    expect(calls.map((c) => c.url)).toEqual(['http://127.0.0.1:4567/', 'http://127.0.0.1:4567/', 'http://127.0.0.1:4567/']);
  });

  it('error types, with or without a namespace, become CognitoError', async () => {
    const { fetch } = scriptedFetch(() =>
      jsonResponse(400, { __type: 'com.amazonaws.cognito#UserNotFoundException', message: 'User does not exist.' }),
    );
    const error = await initiatePasswordAuth(config.primary, 'bob', 'x', { fetchFn: fetch }).catch((e) => e);
    expect(error).toBeInstanceOf(CognitoError);
    expect(error.type).toBe('UserNotFoundException');
    expect(describeAuthError(error)).toBe('Wrong username or password');
  });

  it('5xx, network errors and timeouts mean the region cannot be reached', async () => {
    const five = scriptedFetch(() => jsonResponse(503, { message: 'Service unavailable: region us-east-1 is down' }));
    await expect(initiatePasswordAuth(config.primary, 'a', 'b', { fetchFn: five.fetch })).rejects.toBeInstanceOf(RegionUnreachableError);
    const net = scriptedFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await initiatePasswordAuth(config.primary, 'a', 'b', { fetchFn: net.fetch }).catch((e) => e);
    expect(describeAuthError(error)).toBe('Region us-east-1 cannot be reached');
    const slow = scriptedFetch((_, signal) => hang(signal));
    const timeout = await initiatePasswordAuth(config.primary, 'a', 'b', { fetchFn: slow.fetch, timeoutMs: 10 }).catch((e) => e);
    expect(timeout).toBeInstanceOf(RegionUnreachableError);
    expect(describeAuthError(timeout)).toBe('Region us-east-1 cannot be reached');
  });

  it('GetCredentialsForIdentity: Logins key of the region pool, Expiration in epoch seconds -> ms', async () => {
    const { fetch, calls } = cognito({ expiration: 1_800_000_000 });
    const creds = await getCredentials(config.secondary, 'ap-northeast-1:id', 'tok', { fetchFn: fetch });
    expect(calls[0]!.url).toBe('https://cognito-identity.ap-northeast-1.amazonaws.com/');
    expect(calls[0]!.json).toEqual({ IdentityId: 'ap-northeast-1:id', Logins: { 'cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_def': 'tok' } });
    expect(creds).toEqual({ accessKeyId: 'AKID-ap-northeast-1', secretAccessKey: 'secret', sessionToken: 'token', expiration: 1_800_000_000_000 });
  });
});

describe('signIn', () => {
  it('signs in with the primary pool, then GetId and credentials in the same region', async () => {
    const { fetch, calls } = cognito();
    const outcome = await signIn(config, 'alice', 'Correct-horse-1', { fetchFn: fetch });
    expect(outcome.kind).toBe('signedIn');
    if (outcome.kind !== 'signedIn') throw new Error();
    expect(calls.map(target)).toEqual([
      'AWSCognitoIdentityProviderService.InitiateAuth',
      'AWSCognitoIdentityService.GetId',
      'AWSCognitoIdentityService.GetCredentialsForIdentity',
    ]);
    expect(calls[1]!.json).toEqual({
      IdentityPoolId: 'us-east-1:11111111-1111-1111-1111-111111111111',
      Logins: { 'cognito-idp.us-east-1.amazonaws.com/us-east-1_abc': fakeIdToken('id-us-east-1') },
    });
    expect(outcome.session).toMatchObject({
      role: 'primary',
      region: 'us-east-1',
      username: 'alice',
      identityId: 'us-east-1:identity-uuid',
      owner: 'alice',
      refreshToken: 'refresh-us-east-1',
      credentials: { accessKeyId: 'AKID-us-east-1', expiration: 1_900_000_000_000 },
    });
    expect(outcome.notices).toEqual([]);
  });

  it('wrong password -> "Wrong username or password", without trying the other region', async () => {
    const { fetch, calls } = cognito();
    const error = await signIn(config, 'alice', 'nope', { fetchFn: fetch }).catch((e) => e);
    expect(error).toBeInstanceOf(SignInError);
    expect(error.message).toBe('Wrong username or password');
    expect(calls).toHaveLength(1);
  });

  it('primary unreachable -> "Region us-east-1 cannot be reached" and the secondary pool is used', async () => {
    const { fetch, calls } = cognito({ down: ['us-east-1'] });
    const outcome = await signIn(config, 'alice', 'Correct-horse-1', { fetchFn: fetch });
    expect(outcome.notices).toEqual(['Region us-east-1 cannot be reached']);
    if (outcome.kind !== 'signedIn') throw new Error();
    expect(outcome.session.role).toBe('secondary');
    expect(outcome.session.region).toBe('ap-northeast-1');
    expect(calls[1]!.json).toMatchObject({ ClientId: 'client-b' });
    expect(calls[2]!.json).toMatchObject({ Logins: { 'cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_def': fakeIdToken('id-ap-northeast-1') } });
  });

  it('the owner is the id token\'s cognito:username: the same person is the same owner in either region', async () => {
    const primary = await signIn(config, 'Alice', 'Correct-horse-1', { fetchFn: cognito().fetch });
    const secondary = await signIn(config, 'alice', 'Correct-horse-1', { fetchFn: cognito({ down: ['us-east-1'] }).fetch });
    if (primary.kind !== 'signedIn' || secondary.kind !== 'signedIn') throw new Error();
    // Another identity id per region (one per identity pool), one owner: what the user typed does not matter.
    expect([primary.session.identityId, secondary.session.identityId]).toEqual(['us-east-1:identity-uuid', 'ap-northeast-1:identity-uuid']);
    expect([primary.session.owner, secondary.session.owner]).toEqual(['alice', 'alice']);
  });

  it('a user name that cannot be an owner value stops the sign-in with a clear message', async () => {
    for (const username of ['alice/x', 'Alice']) {
      const error = await signIn(config, username, 'Correct-horse-1', { fetchFn: cognito({ username }).fetch }).catch((e) => e);
      expect(error).toBeInstanceOf(SignInError);
      expect(error.message).toBe(`The user name "${username}" cannot own photos (lower-case letters, digits, ".", "_" and "-" only); ask an operator`);
    }
  });

  it('an id token without cognito:username is refused', () => {
    expect(() => ownerFromIdToken('not-a-jwt')).toThrow('The sign-in answer has no user name (cognito:username); sign in again');
  });

  it('primary timing out -> the secondary pool', async () => {
    const { fetch } = cognito({ hangs: ['us-east-1'] });
    const outcome = await signIn(config, 'alice', 'Correct-horse-1', { fetchFn: fetch, timeoutMs: 20 });
    expect(outcome.kind === 'signedIn' && outcome.session.region).toBe('ap-northeast-1');
    expect(outcome.notices).toEqual(['Region us-east-1 cannot be reached']);
  });

  it('both unreachable -> both regions named', async () => {
    const { fetch } = cognito({ down: ['us-east-1', 'ap-northeast-1'] });
    const error = await signIn(config, 'alice', 'Correct-horse-1', { fetchFn: fetch }).catch((e) => e);
    expect(error).toBeInstanceOf(SignInError);
    expect(error.message).toBe('Region us-east-1 cannot be reached. Region ap-northeast-1 cannot be reached');
  });

  it('NEW_PASSWORD_REQUIRED -> RespondToAuthChallenge with USERNAME and NEW_PASSWORD, then credentials', async () => {
    const { fetch, calls } = cognito({ newPasswordRequired: true });
    const outcome = await signIn(config, 'alice@example.com', 'Correct-horse-1', { fetchFn: fetch });
    expect(outcome).toEqual({ kind: 'newPasswordRequired', role: 'primary', cognitoSession: 'sess-1', username: 'alice', notices: [] });
    if (outcome.kind !== 'newPasswordRequired') throw new Error();
    const tooShort = await completeNewPassword(config, outcome.role, outcome.cognitoSession, outcome.username, 'short', { fetchFn: fetch }).catch((e) => e);
    expect(tooShort.message).toBe('Password does not conform to policy: too short');
    const session = await completeNewPassword(config, outcome.role, outcome.cognitoSession, outcome.username, 'A-much-better-1', { fetchFn: fetch });
    const respond = calls.find((c) => target(c) === 'AWSCognitoIdentityProviderService.RespondToAuthChallenge' && (c.json as any).ChallengeResponses.NEW_PASSWORD === 'A-much-better-1');
    expect(respond!.json).toEqual({
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      ClientId: 'client-a',
      Session: 'sess-1',
      ChallengeResponses: { USERNAME: 'alice', NEW_PASSWORD: 'A-much-better-1' },
    });
    expect(session.identityId).toBe('us-east-1:identity-uuid');
  });

  it('an expired challenge session asks to sign in again', async () => {
    const { fetch } = cognito({ newPasswordRequired: true });
    await expect(completeNewPassword(config, 'primary', 'stale', 'alice', 'A-much-better-1', { fetchFn: fetch })).rejects.toThrow(
      'The sign-in session expired; sign in again',
    );
  });
});

function session(overrides: Partial<Session> = {}): Session {
  return {
    role: 'primary',
    region: 'us-east-1',
    clientId: 'client-a',
    username: 'alice',
    identityId: 'us-east-1:identity-uuid',
    owner: 'alice',
    idToken: fakeIdToken('id-us-east-1'),
    refreshToken: 'refresh-us-east-1',
    tokenExpiresAt: 1_000_000 + 3600_000,
    credentials: { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't', expiration: 1_000_000 + 3600_000 },
    ...overrides,
  };
}

describe('session persistence (sessionStorage)', () => {
  it('round-trips and is dropped for another configuration', () => {
    const store = memoryStore();
    saveSession(store, session());
    expect(loadSession(store, config, 1_000_000)).toEqual(session());
    const other = testConfig();
    other.primary.userPoolClientId = 'another-client';
    expect(loadSession(store, other, 1_000_000)).toBeNull();
  });

  it('a session stored before sessions carried their owner is dropped: sign in again', () => {
    const store = memoryStore();
    const { owner: _owner, ...old } = session();
    store.setItem(SESSION_KEY, JSON.stringify(old));
    expect(loadSession(store, config, 1_000_000)).toBeNull();
  });

  it('ignores garbage and expired sessions without a refresh token', () => {
    const store = memoryStore();
    store.setItem(SESSION_KEY, '{not json');
    expect(loadSession(store, config)).toBeNull();
    store.setItem(SESSION_KEY, JSON.stringify({ role: 'primary' }));
    expect(loadSession(store, config)).toBeNull();
    const { refreshToken: _drop, ...noRefresh } = session();
    saveSession(store, noRefresh);
    expect(loadSession(store, config, 1_000_000 + 7200_000)).toBeNull();
  });

  it('SessionManager: sign-out clears the storage', () => {
    const store = memoryStore();
    saveSession(store, session());
    const manager = new SessionManager(config, store, { now: () => 1_000_000 });
    expect(manager.session?.username).toBe('alice');
    const events: (string | undefined)[] = [];
    manager.subscribe((s, reason) => events.push(s ? 'in' : `out:${reason ?? ''}`));
    manager.signOut();
    expect(store.data.has(SESSION_KEY)).toBe(false);
    expect(manager.session).toBeNull();
    expect(events).toEqual(['out:']);
  });
});

describe('SessionManager: renewal before expiry', () => {
  it('credentials far from expiry are returned as they are', async () => {
    const { fetch, calls } = cognito();
    const store = memoryStore();
    saveSession(store, session());
    const manager = new SessionManager(config, store, { fetchFn: fetch, now: () => 1_000_000 });
    await expect(manager.credentials()).resolves.toMatchObject({ accessKeyId: 'AKID' });
    expect(calls).toHaveLength(0);
  });

  it('within 5 minutes of expiry: REFRESH_TOKEN_AUTH then new credentials, saved', async () => {
    const { fetch, calls } = cognito();
    const store = memoryStore();
    saveSession(store, session());
    let now = 1_000_000;
    const manager = new SessionManager(config, store, { fetchFn: fetch, now: () => now });
    now = 1_000_000 + 3600_000 - 60_000;
    const [a, b] = await Promise.all([manager.credentials(), manager.credentials()]);
    expect(a.accessKeyId).toBe('AKID-us-east-1');
    expect(b.accessKeyId).toBe('AKID-us-east-1');
    // single flight: one refresh, one credentials call
    expect(calls.map(target)).toEqual([
      'AWSCognitoIdentityProviderService.InitiateAuth',
      'AWSCognitoIdentityService.GetCredentialsForIdentity',
    ]);
    expect(calls[0]!.json).toEqual({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: 'client-a', AuthParameters: { REFRESH_TOKEN: 'refresh-us-east-1' } });
    expect(calls[1]!.json).toMatchObject({ IdentityId: 'us-east-1:identity-uuid', Logins: { 'cognito-idp.us-east-1.amazonaws.com/us-east-1_abc': fakeIdToken('id2-us-east-1') } });
    const saved = JSON.parse(store.data.get(SESSION_KEY)!);
    expect(saved.idToken).toBe(fakeIdToken('id2-us-east-1'));
    expect(saved.refreshToken).toBe('refresh-us-east-1');
  });

  it('a rejected refresh token signs out and asks to sign in again', async () => {
    const { fetch } = cognito();
    const store = memoryStore();
    saveSession(store, session({ refreshToken: 'revoked' }));
    let now = 1_000_000;
    const manager = new SessionManager(config, store, { fetchFn: fetch, now: () => now });
    const reasons: (string | undefined)[] = [];
    manager.subscribe((_, reason) => reasons.push(reason));
    now = 1_000_000 + 3600_000 + 1;
    await expect(manager.credentials()).rejects.toThrow('Your session expired; sign in again');
    expect(manager.session).toBeNull();
    expect(reasons).toEqual(['Your session expired; sign in again']);
  });

  it('the session region unreachable: old credentials are used while valid, then sign-in is asked', async () => {
    const { fetch } = cognito({ down: ['us-east-1'] });
    const store = memoryStore();
    saveSession(store, session());
    let now = 1_000_000 + 3600_000 - 60_000;
    const manager = new SessionManager(config, store, { fetchFn: fetch, now: () => now });
    await expect(manager.credentials()).resolves.toMatchObject({ accessKeyId: 'AKID' });
    expect(manager.session).not.toBeNull();
    now = 1_000_000 + 3600_000 + 1;
    await expect(manager.credentials()).rejects.toThrow(
      'Your session expired and region us-east-1 cannot be reached to renew it; sign in again',
    );
    expect(manager.session).toBeNull();
  });
});
