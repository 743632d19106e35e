// Photo ids, file checks, the signed S3 upload (XMLHttpRequest, for progress) and image URLs.

import { objectUrl, type RegionConfig } from './config';
import { presignUrl, signRequest, type AwsCredentials } from './sigv4';

export const MAX_PHOTO_BYTES = 10 * 1024 * 1024; // 10485760, the API's limit
export const PHOTO_PREFIX = 'public/';
export const PHOTO_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const IMAGE_URL_TTL_SECONDS = 900;

const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** 22 URL-safe base64 characters (132 random bits) from crypto.getRandomValues. */
export function newPhotoId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(22));
  let id = '';
  for (const byte of bytes) id += URL_SAFE[byte & 63];
  return id;
}

export function photoKey(photoId: string): string {
  return `${PHOTO_PREFIX}${photoId}`;
}

export interface FileLike {
  name?: string;
  type: string;
  size: number;
}

function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why a file cannot be uploaded, or null when it can. */
export function fileProblem(file: FileLike): string | null {
  if (!file.type || !file.type.startsWith('image/')) {
    return `${file.name ? `"${file.name}"` : 'This file'} is not an image: choose a JPEG, PNG, GIF, WebP or other image file.`;
  }
  if (file.size <= 0) return `${file.name ? `"${file.name}"` : 'This file'} is empty.`;
  if (file.size > MAX_PHOTO_BYTES) {
    return `${file.name ? `"${file.name}"` : 'This image'} is ${formatMb(file.size)}: photos are limited to 10 MB.`;
  }
  return null;
}

export class UploadError extends Error {
  override name = 'UploadError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The parts of XMLHttpRequest the upload uses (a fake in tests). */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  status: number;
  responseText: string;
  timeout: number;
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  ontimeout: (() => void) | null;
  onabort: (() => void) | null;
}

export interface UploadOptions {
  credentials: AwsCredentials;
  region: RegionConfig;
  key: string;
  body: Blob | FileLike;
  contentType: string;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  xhrFactory?: () => XhrLike;
  timeoutMs?: number;
}

function s3Message(text: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return [code, message].filter(Boolean).join(': ');
}

/** PutObject, SigV4-signed (UNSIGNED-PAYLOAD, Content-Type signed), reporting progress. */
export async function uploadObject(options: UploadOptions): Promise<void> {
  const url = objectUrl(options.region, options.key);
  const signed = await signRequest(options.credentials, {
    url,
    method: 'PUT',
    region: options.region.region,
    service: 's3',
    headers: { 'content-type': options.contentType },
    unsignedPayload: true,
  });
  const xhr = (options.xhrFactory ?? (() => new XMLHttpRequest() as unknown as XhrLike))();
  const region = options.region.region;
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener('abort', onAbort);
    const done = (error?: Error) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    xhr.open('PUT', signed.url);
    xhr.timeout = options.timeoutMs ?? 5 * 60 * 1000;
    for (const [name, value] of Object.entries(signed.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) options.onProgress?.(Math.min(1, event.loaded / event.total));
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress?.(1);
        done();
        return;
      }
      const detail = s3Message(xhr.responseText || '');
      if (xhr.status >= 500 || xhr.status === 0) {
        done(new UploadError(`Region ${region} cannot store the photo right now (HTTP ${xhr.status}${detail ? `, ${detail}` : ''})`, xhr.status));
      } else {
        done(new UploadError(`The upload was refused (HTTP ${xhr.status}${detail ? `, ${detail}` : ''})`, xhr.status));
      }
    };
    xhr.onerror = () => done(new UploadError(`Region ${region} cannot be reached: the upload failed`, 0));
    xhr.ontimeout = () => done(new UploadError(`Region ${region} did not answer: the upload timed out`, 0));
    xhr.onabort = () => done(new UploadError('The upload was cancelled', 0));
    xhr.send(options.body);
  });
}

/** A presigned GetObject URL of a photo in `region`'s bucket. */
export function imageUrl(credentials: AwsCredentials, region: RegionConfig, key: string, date?: Date): Promise<string> {
  return presignUrl(credentials, {
    url: objectUrl(region, key),
    region: region.region,
    service: 's3',
    expiresIn: IMAGE_URL_TTL_SECONDS,
    ...(date ? { date } : {}),
  });
}
