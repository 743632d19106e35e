// Test doubles shared by the unit tests: a manual clock, a scripted fetch and an
// independent SigV4 verifier (node:crypto, written from the spec, not from @smithy).

import { createHash, createHmac } from 'node:crypto';
import type { UiConfig } from '../config';
import type { Clock } from '../routing';

/** Let pending promise callbacks run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  time = 1_700_000_000_000;
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Move time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await flush();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

export interface RecordedCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  json: unknown;
}

export type Responder = (call: RecordedCall, signal: AbortSignal | undefined) => Response | Promise<Response>;

/** A fetch that records every call and answers with `responder`. */
export function scriptedFetch(responder: Responder): { fetch: typeof fetch; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const body = typeof init?.body === 'string' ? init.body : undefined;
    let json: unknown = undefined;
    if (body) {
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
    }
    const call: RecordedCall = { url: String(input), method: init?.method ?? 'GET', headers, body, json };
    calls.push(call);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return responder(call, init?.signal ?? undefined);
  };
  return { fetch: fn as typeof fetch, calls };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A fetch promise that never settles unless aborted. */
export function hang(signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((_, reject) => {
    signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
}

/** An id token as Cognito shapes one (header.claims.signature, base64url); `tag` tells tokens apart. */
export function fakeIdToken(tag: string, username = 'alice'): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k' })}.${part({ 'cognito:username': username, jti: tag, token_use: 'id' })}.c2ln`;
}

export const CREDS = {
  accessKeyId: 'ASIAEXAMPLEKEY123456',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+with=odd chars',
  expiration: 1_700_000_000_000 + 3600_000,
};

export function testConfig(withEndpoint = false): UiConfig {
  return {
    appId: 'multi-region-app',
    uiRegion: 'us-east-1',
    primary: {
      region: 'us-east-1',
      stateUrl: withEndpoint
        ? 'http://127.0.0.1:4567/execute-api/abc123/prod/state/multi-region-app'
        : 'https://x.execute-api.us-east-1.amazonaws.com/prod/state/multi-region-app',
      photosApi: withEndpoint
        ? 'http://127.0.0.1:4567/execute-api/def456/prod'
        : 'https://y.execute-api.us-east-1.amazonaws.com/prod',
      objectStoreBucketName: 'bucket-a',
      userPoolId: 'us-east-1_abc',
      userPoolClientId: 'client-a',
      identityPoolId: 'us-east-1:11111111-1111-1111-1111-111111111111',
      ...(withEndpoint ? { endpoint: 'http://127.0.0.1:4567' } : {}),
    },
    secondary: {
      region: 'ap-northeast-1',
      stateUrl: withEndpoint
        ? 'http://127.0.0.1:4568/execute-api/ghi789/prod/state/multi-region-app'
        : 'https://z.execute-api.ap-northeast-1.amazonaws.com/prod/state/multi-region-app',
      photosApi: withEndpoint
        ? 'http://127.0.0.1:4568/execute-api/jkl012/prod'
        : 'https://w.execute-api.ap-northeast-1.amazonaws.com/prod',
      objectStoreBucketName: 'bucket-b',
      userPoolId: 'ap-northeast-1_def',
      userPoolClientId: 'client-b',
      identityPoolId: 'ap-northeast-1:22222222-2222-2222-2222-222222222222',
      ...(withEndpoint ? { endpoint: 'http://127.0.0.1:4568' } : {}),
    },
  };
}

// ---- an independent SigV4 verifier (what API Gateway / S3 compute on their side) ----

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** Python's urllib.parse.quote(value, safe): RFC 3986 unreserved chars and `safe` stay. */
function quote(value: string, safe: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.~-]/.test(ch) || safe.includes(ch)) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function canonicalPath(rawPath: string, s3: boolean): string {
  if (s3) return rawPath || '/';
  const segments: string[] = [];
  for (const segment of (rawPath || '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  let normalized = `/${segments.join('/')}`;
  if (rawPath.endsWith('/') && normalized !== '/') normalized += '/';
  return quote(normalized, '/');
}

function canonicalQuery(search: string, drop: string[] = []): string {
  if (!search) return '';
  const pairs: [string, string][] = [];
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const [k, v = ''] = part.split('=') as [string, string?];
    const key = decodeURIComponent(k.replace(/\+/g, '%20'));
    if (drop.includes(key)) continue;
    pairs.push([quote(key, ''), quote(decodeURIComponent(v.replace(/\+/g, '%20')), '')]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export interface VerifyInput {
  method: string;
  url: string;
  /** Headers as sent (without host: it is taken from the URL, as a browser sends it). */
  headers: Record<string, string>;
  body?: string;
  secretAccessKey: string;
}

export interface Verified {
  ok: boolean;
  accessKey: string;
  region: string;
  service: string;
  signedHeaders: string[];
  canonicalRequest: string;
}

/** Check the Authorization header of a request. */
export function verifySignedRequest(input: VerifyInput): Verified {
  const url = new URL(input.url);
  const headers: Record<string, string> = { host: url.host };
  for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
  const auth = headers.authorization ?? '';
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) throw new Error(`bad Authorization header: ${auth}`);
  const [accessKey, date, region, service] = match[1]!.split('/') as [string, string, string, string];
  const signedHeaders = match[2]!.split(';');
  const amzDate = headers['x-amz-date'] ?? '';
  const payload = headers['x-amz-content-sha256'] ?? sha256Hex(input.body ?? '');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalPath(url.pathname, service === 's3'),
    canonicalQuery(url.search),
    ...signedHeaders.map((h) => `${h}:${(headers[h] ?? '').trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaders.join(';'),
    payload,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${input.secretAccessKey}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return { ok: expected === match[3], accessKey, region, service, signedHeaders, canonicalRequest };
}

/** Check a presigned URL (query-string authentication, S3 rules: UNSIGNED-PAYLOAD). */
export function verifyPresignedUrl(presigned: string, secretAccessKey: string): Verified & { query: URLSearchParams } {
  const url = new URL(presigned);
  const q = url.searchParams;
  const [accessKey, date, region, service] = (q.get('X-Amz-Credential') ?? '').split('/') as [string, string, string, string];
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  const headers: Record<string, string> = { host: url.host };
  const canonicalRequest = [
    'GET',
    canonicalPath(url.pathname, service === 's3'),
    canonicalQuery(url.search, ['X-Amz-Signature']),
    ...signedHeaders.map((h) => `${h}:${headers[h] ?? ''}`),
    '',
    signedHeaders.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', q.get('X-Amz-Date') ?? '', scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return { ok: expected === q.get('X-Amz-Signature'), accessKey, region, service, signedHeaders, canonicalRequest, query: q };
}
