import { describe, expect, it } from 'vitest';
import { ConfigError, cognitoIdentityUrl, cognitoIdpUrl, loadUiConfig, loginProvider, objectUrl, parseUiConfig } from './config';
import { authorLabel, sizeLabel, timeLabel } from './format';
import { MAX_PHOTO_BYTES, PHOTO_ID_PATTERN, fileProblem, imageUrl, newPhotoId, photoKey, uploadObject, type XhrLike } from './photos';
import { CREDS, jsonResponse, scriptedFetch, testConfig, verifyPresignedUrl, verifySignedRequest } from './testing/fakes';
import { retryDelayMs } from './ui/SmartImage';

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

  it('the object key is public/<photoId>', () => {
    expect(photoKey('abc')).toBe('public/abc');
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
  it('PUTs to public/<id> of the region bucket, signed, with progress', async () => {
    const xhr = new FakeXhr();
    const progress: number[] = [];
    const body = { type: 'image/png', size: 2000 };
    const pending = uploadObject({
      credentials: CREDS,
      region: testConfig().secondary,
      key: 'public/AbC',
      body,
      contentType: 'image/png',
      onProgress: (f) => progress.push(f),
      xhrFactory: () => xhr,
    });
    await new Promise((r) => setImmediate(r));
    expect(xhr.method).toBe('PUT');
    expect(xhr.url).toBe('https://bucket-b.s3.ap-northeast-1.amazonaws.com/public/AbC');
    expect(xhr.body).toBe(body);
    expect(xhr.headers['content-type']).toBe('image/png');
    expect(xhr.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(xhr.headers.host).toBeUndefined();
    const verified = verifySignedRequest({ method: 'PUT', url: xhr.url, headers: xhr.headers, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(verified.region).toBe('ap-northeast-1');
    expect(verified.signedHeaders).toContain('content-type');
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
  it('authors: "you" for me, else a short id', () => {
    expect(authorLabel('us-east-1:3f2a9c1b-1111-2222-3333-444444444444', 'us-east-1:3f2a9c1b-1111-2222-3333-444444444444')).toBe('you');
    expect(authorLabel('us-east-1:3f2a9c1b-1111-2222-3333-444444444444', 'someone-else')).toBe('user 3f2a9c1b');
    expect(authorLabel('', 'me')).toBe('unknown');
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
