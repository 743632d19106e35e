import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { describe, expect, it } from 'vitest';
import { formatQuery, presignUrl, rfc3986, signRequest } from './sigv4';
import { CREDS, verifyPresignedUrl, verifySignedRequest } from './testing/fakes';

const DATE = new Date('2025-01-02T03:04:05Z');

describe('the SigV4 library itself', () => {
  it('matches the AWS SigV4 test suite (get-vanilla)', async () => {
    const signer = new SignatureV4({
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      region: 'us-east-1',
      service: 'service',
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      { method: 'GET', protocol: 'https:', hostname: 'example.amazonaws.com', path: '/', query: {}, headers: { host: 'example.amazonaws.com' } },
      { signingDate: new Date('2015-08-30T12:36:00Z') },
    );
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });
});

describe('signRequest (execute-api)', () => {
  it('signs a GET with the API region, host and session token', async () => {
    const url = 'https://y.execute-api.us-east-1.amazonaws.com/prod/photos?limit=24&cursor=MTcwMDAwMDAwMDAwMC1hYmM';
    const signed = await signRequest(CREDS, { url, method: 'GET', region: 'us-east-1', service: 'execute-api', date: DATE });
    expect(signed.headers['x-amz-date']).toBe('20250102T030405Z');
    expect(signed.headers['x-amz-security-token']).toBe(CREDS.sessionToken);
    expect(signed.headers.host).toBeUndefined(); // the browser sends it
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY123456\/20250102\/us-east-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    const verified = verifySignedRequest({ method: 'GET', url: signed.url, headers: signed.headers, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(new URL(signed.url).searchParams.get('cursor')).toBe('MTcwMDAwMDAwMDAwMC1hYmM');
  });

  it('signs a POST body and its content type', async () => {
    const body = JSON.stringify({ message: 'héllo "world" </script> 🎉' });
    const signed = await signRequest(CREDS, {
      url: 'https://y.execute-api.ap-northeast-1.amazonaws.com/prod/comments/abc_DEF-123',
      method: 'POST',
      region: 'ap-northeast-1',
      service: 'execute-api',
      headers: { 'Content-Type': 'application/json' },
      body,
      date: DATE,
    });
    const verified = verifySignedRequest({ method: 'POST', url: signed.url, headers: signed.headers, body, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(verified.region).toBe('ap-northeast-1');
    expect(verified.signedHeaders).toContain('content-type');
    // a tampered body no longer matches
    expect(verifySignedRequest({ method: 'POST', url: signed.url, headers: { ...signed.headers, 'x-amz-content-sha256': 'x' }, body: 'x', secretAccessKey: CREDS.secretAccessKey }).ok).toBe(false);
  });

  it('signs the sandbox URL exactly: http, port in the host, the /execute-api/<id>/<stage> path', async () => {
    const url = 'http://127.0.0.1:4567/execute-api/abc123/prod/state/multi-region-app';
    const signed = await signRequest(CREDS, { url, method: 'GET', region: 'us-east-1', service: 'execute-api', date: DATE });
    expect(signed.url).toBe(url);
    const verified = verifySignedRequest({ method: 'GET', url, headers: signed.headers, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(verified.canonicalRequest).toContain('\nhost:127.0.0.1:4567\n');
    expect(verified.canonicalRequest.split('\n')[1]).toBe('/execute-api/abc123/prod/state/multi-region-app');
  });

  it('double-encodes path segments for execute-api (API Gateway rules)', async () => {
    const url = 'https://y.execute-api.us-east-1.amazonaws.com/prod/comments/a%20b';
    const signed = await signRequest(CREDS, { url, method: 'GET', region: 'us-east-1', service: 'execute-api', date: DATE });
    const verified = verifySignedRequest({ method: 'GET', url: signed.url, headers: signed.headers, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(verified.canonicalRequest.split('\n')[1]).toBe('/prod/comments/a%2520b');
  });

  it('signs with the region it is given (a signature for one region does not verify as another)', async () => {
    const url = 'https://z.execute-api.ap-northeast-1.amazonaws.com/prod/photos';
    const signed = await signRequest(CREDS, { url, method: 'GET', region: 'ap-northeast-1', service: 'execute-api', date: DATE });
    expect(signed.headers.authorization).toContain('/ap-northeast-1/execute-api/aws4_request');
  });
});

describe('signRequest (S3 PutObject)', () => {
  it('UNSIGNED-PAYLOAD with Content-Type signed, path not re-encoded', async () => {
    const url = 'https://bucket-a.s3.us-east-1.amazonaws.com/public/AbC_-123';
    const signed = await signRequest(CREDS, {
      url,
      method: 'PUT',
      region: 'us-east-1',
      service: 's3',
      headers: { 'content-type': 'image/png' },
      unsignedPayload: true,
      date: DATE,
    });
    expect(signed.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    const verified = verifySignedRequest({ method: 'PUT', url, headers: signed.headers, secretAccessKey: CREDS.secretAccessKey });
    expect(verified.ok).toBe(true);
    expect(verified.service).toBe('s3');
    expect(verified.signedHeaders).toEqual(['content-type', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']);
  });
});

describe('presignUrl (S3 GetObject)', () => {
  it('query-string auth, host signed, UNSIGNED-PAYLOAD, 15 minutes', async () => {
    const url = await presignUrl(CREDS, {
      url: 'https://bucket-b.s3.ap-northeast-1.amazonaws.com/public/xyz',
      region: 'ap-northeast-1',
      date: DATE,
    });
    const verified = verifyPresignedUrl(url, CREDS.secretAccessKey);
    expect(verified.ok).toBe(true);
    expect(verified.query.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(verified.query.get('X-Amz-Credential')).toBe('ASIAEXAMPLEKEY123456/20250102/ap-northeast-1/s3/aws4_request');
    expect(verified.query.get('X-Amz-Expires')).toBe('900');
    expect(verified.query.get('X-Amz-SignedHeaders')).toBe('host');
    expect(verified.query.get('X-Amz-Security-Token')).toBe(CREDS.sessionToken);
    expect(url.startsWith('https://bucket-b.s3.ap-northeast-1.amazonaws.com/public/xyz?')).toBe(true);
  });

  it('path-style sandbox URL keeps the port in the signed host', async () => {
    const url = await presignUrl(CREDS, { url: 'http://127.0.0.1:4568/bucket-b/public/xyz', region: 'ap-northeast-1', date: DATE });
    expect(url.startsWith('http://127.0.0.1:4568/bucket-b/public/xyz?')).toBe(true);
    const verified = verifyPresignedUrl(url, CREDS.secretAccessKey);
    expect(verified.ok).toBe(true);
    expect(verified.canonicalRequest).toContain('\nhost:127.0.0.1:4568\n');
  });
});

describe('query helpers', () => {
  it('rfc3986 escapes what encodeURIComponent leaves', () => {
    expect(rfc3986("a b!'()*~")).toBe('a%20b%21%27%28%29%2A~');
  });

  it('formatQuery sorts and encodes', () => {
    expect(formatQuery({ b: '2', a: 'x y', c: undefined, d: ['2', '1'] })).toBe('a=x%20y&b=2&d=1&d=2');
  });
});
