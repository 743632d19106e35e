// AWS Signature Version 4 for the browser: API Gateway (execute-api) and S3 requests,
// signed with identity-pool credentials. A thin layer over @smithy/signature-v4.

import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch milliseconds. */
  expiration?: number;
}

export type SigningService = 'execute-api' | 's3';

export interface SignInput {
  url: string;
  method: string;
  region: string;
  service: SigningService;
  headers?: Record<string, string>;
  /** Request body (hashed into the signature) unless unsignedPayload. */
  body?: string;
  /** Sign with x-amz-content-sha256: UNSIGNED-PAYLOAD (S3 uploads: the body is not hashed). */
  unsignedPayload?: boolean;
  date?: Date;
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

interface SmithyRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body?: unknown;
}

/** RFC 3986 encoding, as SigV4 canonicalizes query strings. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  url.searchParams.forEach((value, key) => {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  });
  return query;
}

/** The query string exactly as it is signed (sorted, RFC 3986). */
export function formatQuery(query: Record<string, string | string[] | null | undefined>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? [...value].sort() : [value];
    for (const v of values) parts.push(`${rfc3986(key)}=${rfc3986(v)}`);
  }
  return parts.join('&');
}

function toSmithyRequest(url: URL, method: string, headers: Record<string, string>, body?: string): SmithyRequest {
  const request: SmithyRequest = {
    method: method.toUpperCase(),
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname || '/',
    query: queryOf(url),
    // The signature covers the Host header the browser will send: host[:port] of the URL.
    headers: { ...lowerKeys(headers), host: url.host },
  };
  if (url.port) request.port = Number(url.port);
  if (body !== undefined) request.body = body;
  return request;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function signer(credentials: AwsCredentials, region: string, service: SigningService): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    region,
    service,
    sha256: Sha256,
    // S3 signs the path as sent; every other service encodes it once more.
    uriEscapePath: service !== 's3',
    applyChecksum: true,
  });
}

export interface SignedRequest {
  /** The URL to call (query in canonical order). */
  url: string;
  /** Headers to send; `host` is left out (browsers set it, and it equals the signed value). */
  headers: Record<string, string>;
}

/** Sign a request with the Authorization header. */
export async function signRequest(credentials: AwsCredentials, input: SignInput): Promise<SignedRequest> {
  const url = new URL(input.url);
  const headers = { ...(input.headers ?? {}) };
  if (input.unsignedPayload) headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
  const request = toSmithyRequest(url, input.method, headers, input.unsignedPayload ? undefined : input.body);
  const signed = (await signer(credentials, input.region, input.service).sign(request as never, {
    signingDate: input.date ?? new Date(),
  })) as unknown as SmithyRequest;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) {
    if (k.toLowerCase() !== 'host') out[k] = v;
  }
  const query = formatQuery(request.query);
  return { url: `${url.protocol}//${url.host}${request.path}${query ? `?${query}` : ''}`, headers: out };
}

export interface PresignInput {
  url: string;
  region: string;
  service?: SigningService;
  method?: string;
  /** Seconds, default 900. */
  expiresIn?: number;
  date?: Date;
}

/** A presigned URL (query-string authentication), e.g. an S3 GetObject usable as an <img src>. */
export async function presignUrl(credentials: AwsCredentials, input: PresignInput): Promise<string> {
  const url = new URL(input.url);
  const service = input.service ?? 's3';
  const headers: Record<string, string> = service === 's3' ? { 'x-amz-content-sha256': UNSIGNED_PAYLOAD } : {};
  const request = toSmithyRequest(url, input.method ?? 'GET', headers);
  const signed = (await signer(credentials, input.region, service).presign(request as never, {
    signingDate: input.date ?? new Date(),
    expiresIn: input.expiresIn ?? 900,
  })) as unknown as SmithyRequest;
  return `${url.protocol}//${url.host}${signed.path}?${formatQuery(signed.query)}`;
}
