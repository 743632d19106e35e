import { describe, expect, it } from 'vitest';
import { ConfigError, cognitoIdentityUrl, cognitoIdpUrl, loadUiConfig, loginProvider, objectUrl, parseUiConfig } from './config';
import { authorLabel, sizeLabel, timeLabel } from './format';
import { ApiError } from './api';
import {
  MAX_PHOTO_BYTES,
  PHOTO_ID_PATTERN,
  PhotoIdTakenError,
  UploadError,
  fileProblem,
  imageUrl,
  newPhotoId,
  photoKey,
  publishPhoto,
  uploadObject,
  type PublishSteps,
  type XhrLike,
} from './photos';
import { CREDS, jsonResponse, scriptedFetch, testConfig, verifyPresignedUrl, verifySignedRequest } from './testing/fakes';
import { nextPhase, retryDelayMs } from './ui/SmartImage';

describe('photo ids', () => {
  it('22 URL-safe base64 characters from crypto.getRandomValues', () => {
    const ids = new Set(Array.from({ length: 500 }, () => newPhotoId()));
    expect(ids.size).toBe(500);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(id).toMatch(PHOTO_ID_PATTERN);
    }
  });

  it('maps random bytes onto the alphabet', () => {
    const id = newPhotoId((bytes) => bytes.map((_, i) => i * 3));
    expect(id).toBe('ADGJMPSVYbehknqtwz258_');
    expect(newPhotoId((bytes) => bytes.fill(255))).toBe('_'.repeat(22));
    expect(newPhotoId((bytes) => bytes.fill(62))).toBe('-'.repeat(22));
  });

  it('the object key is public/<owner>/<photoId>: the owner\'s own prefix', () => {
    expect(photoKey('alice', 'abc')).toBe('public/alice/abc');
  });
});

describe('fileProblem', () => {
  it('accepts images up to 10 MB', () => {
    expect(fileProblem({ name: 'a.png', type: 'image/png', size: 1 })).toBeNull();
    expect(fileProblem({ name: 'a.jpg', type: 'image/jpeg', size: MAX_PHOTO_BYTES })).toBeNull();
    expect(MAX_PHOTO_BYTES).toBe(10485760);
  });

  it('refuses non-images, empty files and files over 10 MB', () => {
    expect(fileProblem({ name: 'notes.txt', type: 'text/plain', size: 10 })).toMatch(/is not an image/);
    expect(fileProblem({ name: 'x', type: '', size: 10 })).toMatch(/is not an image/);
    expect(fileProblem({ name: 'e.png', type: 'image/png', size: 0 })).toMatch(/is empty/);
    expect(fileProblem({ name: 'big.png', type: 'image/png', size: MAX_PHOTO_BYTES + 1 })).toBe('"big.png" is 10.0 MB: photos are limited to 10 MB.');
  });
});

class FakeXhr implements XhrLike {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown;
  status = 0;
  responseText = '';
  timeout = 0;
  upload: XhrLike['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
}

describe('uploadObject (S3 PutObject over XMLHttpRequest)', () => {
  it('PUTs to the key in the region bucket, create-only (If-None-Match: *, signed), with progress', async () => {
    const xhr = new FakeXhr();
    const progress: number[] = [];
    const body = { type: 'image/png', size: 2000 };
    const pending = uploadObject({
      credentials: CREDS,
      region: testConfig().secondary,
      key: 'public/alice/AbC',
      body,
      contentType: 'image/png',
      onProgress: (f) => progress.push(f),
      xhrFactory: () => xhr,
    });
    await new Promise((r) => setImmediate(r));
    expect(xhr.method).toBe('PUT');
    expect(xhr.url).toBe('https://bucket-b.s3.ap-northeast-1.amazonaws.com/public/alice/AbC');
    expect(xhr.body).toBe(body);
    expect(xhr.headers['content-type']).toBe('image/png');
    expect(xhr.headers['if-none-match']).toBe('*');
    expect(xhr.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(xhr.headers.host).toBeUndefined();
    const verified = verifySignedRequest({ method: 'PUT', url: xhr.url, headers: xhr.headers, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(verified.region).toBe('ap-northeast-1');
    expect(verified.signedHeaders).toContain('content-type');
    expect(verified.signedHeaders).toContain('if-none-match');
    xhr.upload.onprogress!({ loaded: 500, total: 2000, lengthComputable: true });
    xhr.status = 200;
    xhr.onload!();
    await pending;
    expect(progress).toEqual([0.25, 1]);
  });

  it('sandbox: path-style {endpoint}/{bucket}/{key}', async () => {
    const xhr = new FakeXhr();
    const pending = uploadObject({
      credentials: CREDS,
      region: testConfig(true).primary,
      key: 'public/AbC',
      body: { type: 'image/png', size: 1 },
      contentType: 'image/png',
      xhrFactory: () => xhr,
    });
    await new Promise((r) => setImmediate(r));
    expect(xhr.url).toBe('http://127.0.0.1:4567/bucket-a/public/AbC');
    expect(verifySignedRequest({ method: 'PUT', url: xhr.url, headers: xhr.headers, secretAccessKey: CREDS.secretAccessKey }).ok).toBe(true);
    xhr.status = 200;
    xhr.onload!();
    await pending;
  });

  it('S3 errors and network failures are reported', async () => {
    const xhr = new FakeXhr();
    const pending = uploadObject({ credentials: CREDS, region: testConfig().primary, key: 'public/x', body: { type: 'image/png', size: 1 }, contentType: 'image/png', xhrFactory: () => xhr });
    await new Promise((r) => setImmediate(r));
    xhr.status = 403;
    xhr.responseText = '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    xhr.onload!();
    await expect(pending).rejects.toThrow('The upload was refused (HTTP 403, AccessDenied: Access Denied)');

    const xhr2 = new FakeXhr();
    const pending2 = uploadObject({ credentials: CREDS, region: testConfig().primary, key: 'public/x', body: { type: 'image/png', size: 1 }, contentType: 'image/png', xhrFactory: () => xhr2 });
    await new Promise((r) => setImmediate(r));
    xhr2.onerror!();
    await expect(pending2).rejects.toThrow('Region us-east-1 cannot be reached: the upload failed');
  });

  it('an existing key is 412: UploadError.isTaken, never an overwrite', async () => {
    const xhr = new FakeXhr();
    const pending = uploadObject({ credentials: CREDS, region: testConfig().primary, key: 'public/alice/x', body: { type: 'image/png', size: 1 }, contentType: 'image/png', xhrFactory: () => xhr });
    await new Promise((r) => setImmediate(r));
    xhr.status = 412;
    xhr.responseText = '<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
    xhr.onload!();
    const error = await pending.catch((e) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error.isTaken).toBe(true);
    expect(error.message).toBe('A photo is stored under this id already; photos are never overwritten');
  });
});

describe('publishPhoto: upload under the owner, then register; a taken id gets one new id', () => {
  function steps(script: { upload?: (key: string) => void; register?: (photoId: string) => void } = {}) {
    const log: string[] = [];
    let n = 0;
    const s: PublishSteps = {
      newId: () => `id${++n}`,
      upload: async (key) => {
        log.push(`upload ${key}`);
        script.upload?.(key);
      },
      register: async (photoId) => {
        log.push(`register ${photoId}`);
        script.register?.(photoId);
        return { owner: 'alice', createdAt: 7 };
      },
      onUploaded: () => log.push('uploaded'),
    };
    return { steps: s, log };
  }

  it('uploads to public/<owner>/<id> then registers that id', async () => {
    const { steps: s, log } = steps();
    expect(await publishPhoto('alice', s)).toEqual({ photoId: 'id1', key: 'public/alice/id1', owner: 'alice', createdAt: 7 });
    expect(log).toEqual(['upload public/alice/id1', 'uploaded', 'register id1']);
  });

  it('412 on upload: a new id, once', async () => {
    const { steps: s, log } = steps({
      upload: (key) => {
        if (key.endsWith('id1')) throw new UploadError('taken', 412);
      },
    });
    expect((await publishPhoto('alice', s)).photoId).toBe('id2');
    expect(log).toEqual(['upload public/alice/id1', 'upload public/alice/id2', 'uploaded', 'register id2']);
  });

  it('409 PHOTO_EXISTS on registration: a new id, uploaded and registered again, once', async () => {
    const { steps: s, log } = steps({
      register: (photoId) => {
        if (photoId === 'id1') throw new ApiError(409, 'PHOTO_EXISTS', 'This photo id is already registered');
      },
    });
    expect((await publishPhoto('alice', s)).key).toBe('public/alice/id2');
    expect(log).toEqual(['upload public/alice/id1', 'uploaded', 'register id1', 'upload public/alice/id2', 'uploaded', 'register id2']);
  });

  it('taken twice: a clear message, and no third try', async () => {
    const { steps: s, log } = steps({
      register: () => {
        throw new ApiError(409, 'PHOTO_EXISTS', 'taken');
      },
    });
    const error = await publishPhoto('alice', s).catch((e) => e);
    expect(error).toBeInstanceOf(PhotoIdTakenError);
    expect(error.message).toBe('The photo id was registered by someone else meanwhile; the photo was not saved. Try again.');
    expect(log.filter((l) => l.startsWith('register'))).toHaveLength(2);
    const uploads = steps({
      upload: () => {
        throw new UploadError('taken', 412);
      },
    });
    await expect(publishPhoto('alice', uploads.steps)).rejects.toThrow('Every photo id tried was taken already; nothing was uploaded. Try again.');
    expect(uploads.log).toHaveLength(2);
  });

  it('other errors (fenced, network, refused) are not retried', async () => {
    const readOnly = steps({
      register: () => {
        throw new ApiError(409, 'READ_ONLY', 'read-only');
      },
    });
    await expect(publishPhoto('alice', readOnly.steps)).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(readOnly.log).toEqual(['upload public/alice/id1', 'uploaded', 'register id1']);
    const denied = steps({
      upload: () => {
        throw new UploadError('refused', 403);
      },
    });
    await expect(publishPhoto('alice', denied.steps)).rejects.toThrow('refused');
    expect(denied.log).toEqual(['upload public/alice/id1']);
  });
});

describe('imageUrl', () => {
  it('a presigned GET of the region bucket', async () => {
    const url = await imageUrl(CREDS, testConfig().secondary, 'public/p1', new Date('2025-01-02T00:00:00Z'));
    expect(url.startsWith('https://bucket-b.s3.ap-northeast-1.amazonaws.com/public/p1?')).toBe(true);
    expect(verifyPresignedUrl(url, CREDS.secretAccessKey).ok).toBe(true);
    const local = await imageUrl(CREDS, testConfig(true).secondary, 'public/p1');
    expect(local.startsWith('http://127.0.0.1:4568/bucket-b/public/p1?')).toBe(true);
  });

  it('"replicating…" retries come a few seconds apart, capped', () => {
    expect(retryDelayMs(0)).toBe(2000);
    expect(retryDelayMs(3)).toBe(5000);
    expect(retryDelayMs(100)).toBe(15000);
  });

  it('an image that fails to load shows "replicating" and is asked again: 403 (no s3:ListBucket) like 404', () => {
    // An <img> error carries no status; S3 answers a missing object 403 to app users, 404 to callers who may list.
    expect(nextPhase('loading', 'failed')).toBe('replicating');
    expect(nextPhase('loading', 'no-url')).toBe('replicating');
    expect(nextPhase('replicating', 'retry')).toBe('loading');
    expect(nextPhase('loading', 'url')).toBe('loading');
    expect(nextPhase('loading', 'loaded')).toBe('loaded');
  });
});

describe('uiConfig.json', () => {
  const raw = {
    appId: 'multi-region-app',
    uiRegion: 'us-east-1',
    identityPoolId: 'x',
    userPoolId: 'y',
    userPoolClientId: 'z',
    primary: { ...testConfig(true).primary, photosApi: 'http://127.0.0.1:4567/execute-api/def456/prod/' },
    secondary: testConfig().secondary,
  };

  it('parses both regions; endpoint only where present; trailing slashes trimmed', () => {
    const config = parseUiConfig(raw);
    expect(config.primary.endpoint).toBe('http://127.0.0.1:4567');
    expect(config.primary.photosApi).toBe('http://127.0.0.1:4567/execute-api/def456/prod');
    expect('endpoint' in config.secondary).toBe(false);
  });

  it('names the missing key', () => {
    expect(() => parseUiConfig({ ...raw, secondary: { ...raw.secondary, stateUrl: '' } })).toThrow('"secondary.stateUrl" is missing');
    expect(() => parseUiConfig({ ...raw, primary: undefined })).toThrow(ConfigError);
    expect(() => parseUiConfig([])).toThrow('not a JSON object');
  });

  it('endpoints: AWS or the sandbox', () => {
    const config = parseUiConfig(raw);
    expect(cognitoIdpUrl(config.primary)).toBe('http://127.0.0.1:4567/');
    expect(cognitoIdentityUrl(config.primary)).toBe('http://127.0.0.1:4567/');
    expect(cognitoIdpUrl(config.secondary)).toBe('https://cognito-idp.ap-northeast-1.amazonaws.com/');
    expect(cognitoIdentityUrl(config.secondary)).toBe('https://cognito-identity.ap-northeast-1.amazonaws.com/');
    expect(objectUrl(config.primary, 'public/a')).toBe('http://127.0.0.1:4567/bucket-a/public/a');
    expect(objectUrl(config.secondary, 'public/a')).toBe('https://bucket-b.s3.ap-northeast-1.amazonaws.com/public/a');
    expect(loginProvider(config.secondary)).toBe('cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_def');
  });

  it('loadUiConfig GETs /uiConfig.json without caching', async () => {
    const { fetch, calls } = scriptedFetch(() => jsonResponse(200, raw));
    const config = await loadUiConfig(fetch);
    expect(calls[0]!.url).toBe('/uiConfig.json');
    expect(config.secondary.region).toBe('ap-northeast-1');
    const missing = scriptedFetch(() => new Response('nope', { status: 404 }));
    await expect(loadUiConfig(missing.fetch)).rejects.toThrow('HTTP 404');
  });
});

describe('format', () => {
  it('authors: "you" for my owner value, a username as it is, an old identity id as a short id', () => {
    expect(authorLabel('alice', 'alice')).toBe('you');
    expect(authorLabel('bob.smith', 'alice')).toBe('bob.smith');
    // Written before owners were usernames: one identity id per region, shown short, never "you".
    expect(authorLabel('us-east-1:3f2a9c1b-1111-2222-3333-444444444444', 'alice')).toBe('user 3f2a9c1b');
    expect(authorLabel('', 'alice')).toBe('unknown');
  });

  it('times and sizes', () => {
    const now = 1_700_000_000_000;
    expect(timeLabel(now - 10_000, now)).toBe('just now');
    expect(timeLabel(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(timeLabel(now - 3 * 3600_000, now)).toBe('3 h ago');
    expect(timeLabel(null, now)).toBe('');
    expect(sizeLabel(512)).toBe('512 B');
    expect(sizeLabel(2048)).toBe('2 KB');
    expect(sizeLabel(3 * 1024 * 1024)).toBe('3.0 MB');
  });
});
