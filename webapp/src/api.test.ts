import { describe, expect, it } from 'vitest';
import { ApiError, PhotosClient, commentProblem, parseComments, parsePhotoPage, stateFetcher, type ApiDeps } from './api';
import { CREDS, hang, jsonResponse, scriptedFetch, testConfig, verifySignedRequest } from './testing/fakes';
// The web application firewall's answers (hardened profile), as components/waf.py configures them.
import wafResponses from '../../components/waf-responses.json';

const config = testConfig();

function deps(fetchFn: typeof fetch, extra: Partial<ApiDeps> = {}): ApiDeps {
  return { credentials: async () => CREDS, fetchFn, ...extra };
}

describe('PhotosClient', () => {
  it('GET /photos?limit=24&cursor=..., signed for the API region', async () => {
    const { fetch, calls } = scriptedFetch(() =>
      jsonResponse(200, {
        photos: [{ photoId: 'p1', key: 'public/p1', owner: 'us-east-1:o', createdAt: 1700000000000, size: 10, contentType: 'image/png' }],
        next: 'CURSOR_1',
      }),
    );
    const client = new PhotosClient(config.secondary, deps(fetch));
    const page = await client.listPhotos('MTcwMDAwMDAwMDAwMC1hYmM');
    expect(page).toEqual({
      photos: [{ photoId: 'p1', key: 'public/p1', owner: 'us-east-1:o', createdAt: 1700000000000, size: 10, contentType: 'image/png' }],
      next: 'CURSOR_1',
    });
    const call = calls[0]!;
    const url = new URL(call.url);
    expect(url.origin + url.pathname).toBe('https://w.execute-api.ap-northeast-1.amazonaws.com/prod/photos');
    expect(url.searchParams.get('limit')).toBe('24');
    expect(url.searchParams.get('cursor')).toBe('MTcwMDAwMDAwMDAwMC1hYmM');
    const verified = verifySignedRequest({ method: 'GET', url: call.url, headers: call.headers, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(verified.region).toBe('ap-northeast-1');
    expect(verified.service).toBe('execute-api');
  });

  it('POST /users/<owner>/photos registers as the owner: exactly photoId, size and contentType, signed', async () => {
    const { fetch, calls } = scriptedFetch(() => jsonResponse(200, { owner: 'alice', createdAt: 1700000000001 }));
    const client = new PhotosClient(config.primary, deps(fetch));
    const saved = await client.createPhoto('alice', { photoId: 'abc_DEF-123', size: 2048, contentType: 'image/jpeg' });
    expect(saved).toEqual({ owner: 'alice', createdAt: 1700000000001 });
    const call = calls[0]!;
    expect(call.method).toBe('POST');
    expect(call.url).toBe('https://y.execute-api.us-east-1.amazonaws.com/prod/users/alice/photos');
    expect(call.json).toEqual({ photoId: 'abc_DEF-123', size: 2048, contentType: 'image/jpeg' });
    expect(call.headers['content-type']).toBe('application/json');
    expect(verifySignedRequest({ method: 'POST', url: call.url, headers: call.headers, body: call.body, secretAccessKey: CREDS.secretAccessKey }).ok).toBe(true);
  });

  it('a registration answer without an owner (response template without path parameters) keeps the caller as owner', async () => {
    const { fetch } = scriptedFetch(() => jsonResponse(200, { owner: null, createdAt: 5 }));
    const saved = await new PhotosClient(config.primary, deps(fetch)).createPhoto('alice', { photoId: 'p', size: 1, contentType: 'image/png' });
    expect(saved).toEqual({ owner: 'alice', createdAt: 5 });
  });

  it('409 PHOTO_EXISTS is told apart from READ_ONLY', async () => {
    const taken = scriptedFetch(() => jsonResponse(409, { code: 'PHOTO_EXISTS', message: 'This photo id is already registered' }));
    const error = await new PhotosClient(config.primary, deps(taken.fetch))
      .createPhoto('alice', { photoId: 'p', size: 1, contentType: 'image/png' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect([error.isPhotoExists, error.isReadOnly]).toEqual([true, false]);
  });

  it('comments: GET oldest first as given, POST {message} to /users/<owner>/comments/<photoId>', async () => {
    const { fetch, calls } = scriptedFetch((call) =>
      call.method === 'GET'
        ? jsonResponse(200, {
            comments: [
              { commentId: 'c1', photoId: 'p', user: 'u1', message: 'first', createdAt: 1 },
              { commentId: 'c2', photoId: 'p', user: 'u2', message: 'second', createdAt: 2 },
            ],
          })
        : jsonResponse(200, { commentId: 'c3', photoId: 'p', user: 'alice', createdAt: 3 }),
    );
    const client = new PhotosClient(config.primary, deps(fetch));
    expect((await client.listComments('p')).map((c) => c.message)).toEqual(['first', 'second']);
    expect(calls[0]!.url).toBe('https://y.execute-api.us-east-1.amazonaws.com/prod/comments/p');
    const posted = await client.postComment('alice', 'p', 'third "quoted" </script>');
    expect(posted).toEqual({ commentId: 'c3', photoId: 'p', user: 'alice', message: 'third "quoted" </script>', createdAt: 3 });
    expect(calls[1]!.url).toBe('https://y.execute-api.us-east-1.amazonaws.com/prod/users/alice/comments/p');
    expect(calls[1]!.json).toEqual({ message: 'third "quoted" </script>' });
  });

  it('409 READ_ONLY and 400 carry the server code and message', async () => {
    const readOnly = scriptedFetch(() =>
      jsonResponse(409, { code: 'READ_ONLY', message: 'The application is read-only in this region right now (state check failed); try again in a few moments.' }),
    );
    const error = await new PhotosClient(config.primary, deps(readOnly.fetch)).postComment('alice', 'p', 'hi').catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(409);
    expect(error.isReadOnly).toBe(true);
    expect(error.message).toBe('The application is read-only in this region right now (state check failed); try again in a few moments.');

    const bad = scriptedFetch(() => jsonResponse(400, { code: 'BAD_REQUEST_BODY', message: 'Invalid request body: [string "" is too short]' }));
    const badError = await new PhotosClient(config.primary, deps(bad.fetch)).postComment('alice', 'p', 'x').catch((e) => e);
    expect(badError).toMatchObject({ status: 400, code: 'BAD_REQUEST_BODY', message: 'Invalid request body: [string "" is too short]' });
  });

  it('a request the WAF blocks or throttles becomes an ApiError with its code, never taken for expired credentials', async () => {
    for (const { status, body } of Object.values(wafResponses)) {
      let renewed = 0;
      const { fetch, calls } = scriptedFetch(() => jsonResponse(status, body));
      const client = new PhotosClient(config.primary, deps(fetch, { renewCredentials: async () => void renewed++ }));
      const error = await client.listPhotos().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status, code: body.code, message: body.message });
      expect([renewed, calls.length]).toEqual([0, 1]);
    }
  });

  it('API Gateway errors without a code, and non-JSON bodies, still give a message', async () => {
    const gw = scriptedFetch(() => jsonResponse(403, { message: 'Missing Authentication Token' }));
    await expect(new PhotosClient(config.primary, deps(gw.fetch)).listPhotos()).rejects.toMatchObject({
      status: 403,
      code: 'HTTP_403',
      message: 'Missing Authentication Token',
    });
    const html = scriptedFetch(() => new Response('<html>bad gateway</html>', { status: 502 }));
    await expect(new PhotosClient(config.primary, deps(html.fetch)).listPhotos()).rejects.toMatchObject({ status: 502 });
  });

  it('network errors and timeouts name the region', async () => {
    const down = scriptedFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await new PhotosClient(config.secondary, deps(down.fetch)).listPhotos().catch((e) => e);
    expect(error).toMatchObject({ status: 0, code: 'NETWORK', message: 'Region ap-northeast-1 cannot be reached' });
    expect(error.isNetwork).toBe(true);
    const slow = scriptedFetch((_, signal) => hang(signal));
    await expect(new PhotosClient(config.primary, deps(slow.fetch, { timeoutMs: 10 })).listPhotos()).rejects.toMatchObject({
      status: 0,
      code: 'TIMEOUT',
    });
  });

  it('expired credentials are renewed once and the call retried', async () => {
    let renewed = 0;
    let n = 0;
    const { fetch, calls } = scriptedFetch(() =>
      ++n === 1 ? jsonResponse(403, { message: 'The security token included in the request is expired' }) : jsonResponse(200, { photos: [], next: null }),
    );
    const page = await new PhotosClient(config.primary, deps(fetch, { renewCredentials: async () => void renewed++ })).listPhotos();
    expect(page).toEqual({ photos: [], next: null });
    expect(renewed).toBe(1);
    expect(calls).toHaveLength(2);
  });
});

describe('stateFetcher', () => {
  it('GETs the stateUrl of the asked role, signed for that region, honouring the abort signal', async () => {
    const { fetch, calls } = scriptedFetch((_, signal) => (calls.length === 1 ? jsonResponse(200, { state: 'failover', version: 4 }) : hang(signal)));
    const fetchState = stateFetcher(config, deps(fetch));
    const answer = await fetchState('secondary', new AbortController().signal);
    expect(answer).toEqual({ status: 200, body: { state: 'failover', version: 4 } });
    expect(calls[0]!.url).toBe('https://z.execute-api.ap-northeast-1.amazonaws.com/prod/state/multi-region-app');
    expect(verifySignedRequest({ method: 'GET', url: calls[0]!.url, headers: calls[0]!.headers, secretAccessKey: CREDS.secretAccessKey }).region).toBe(
      'ap-northeast-1',
    );
    const controller = new AbortController();
    const pending = fetchState('primary', controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(ApiError);
  });

  it('answers non-2xx statuses instead of throwing (the router decides)', async () => {
    const { fetch } = scriptedFetch(() => jsonResponse(503, { code: 'UNAVAILABLE', message: 'down' }));
    await expect(stateFetcher(config, deps(fetch))('primary', new AbortController().signal)).resolves.toEqual({
      status: 503,
      body: { code: 'UNAVAILABLE', message: 'down' },
    });
  });
});

describe('parsing and validation', () => {
  it('parsePhotoPage tolerates missing fields and nulls', () => {
    expect(parsePhotoPage({ photos: [{ photoId: 'a', owner: 'us-east-1:o', createdAt: null, size: null, contentType: 'image/gif' }, { nope: 1 }], next: null })).toEqual({
      photos: [{ photoId: 'a', key: 'public/a', owner: 'us-east-1:o', createdAt: null, size: null, contentType: 'image/gif' }],
      next: null,
    });
    // The stored key wins, old form or new; without one, the owner's form decides.
    const page = parsePhotoPage({ photos: [{ photoId: 'b', owner: 'alice' }, { photoId: 'c', owner: 'us-east-1:o', key: 'public/c' }] });
    expect(page.photos.map((p) => p.key)).toEqual(['public/alice/b', 'public/c']);
    expect(parsePhotoPage(null)).toEqual({ photos: [], next: null });
    expect(parseComments({})).toEqual([]);
  });

  it('commentProblem: 1..1000 characters', () => {
    expect(commentProblem('')).not.toBeNull();
    expect(commentProblem('   ')).not.toBeNull();
    expect(commentProblem('ok')).toBeNull();
    expect(commentProblem('x'.repeat(1000))).toBeNull();
    expect(commentProblem('x'.repeat(1001))).toBe('A comment has at most 1000 characters');
  });
});
