// Photo ids, file checks, the signed create-only S3 upload (XMLHttpRequest, for progress), publishing
// (upload, then register; a taken id gets a new one once) and image URLs.

import { ApiError } from './api';
import { objectUrl, type RegionConfig } from './config';
import { MAX_PHOTO_BYTES, photoKey } from './routes';
import { presignUrl, signRequest, type AwsCredentials } from './sigv4';

export { MAX_PHOTO_BYTES, PHOTO_ID_PATTERN, photoKey } from './routes';
export const IMAGE_URL_TTL_SECONDS = 900;
/** S3's answer to a create-only write (If-None-Match: *) of a key that exists. */
export const PRECONDITION_FAILED = 412;

const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** 22 URL-safe base64 characters (132 random bits) from crypto.getRandomValues. */
export function newPhotoId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(22));
  let id = '';
  for (const byte of bytes) id += URL_SAFE[byte & 63];
  return id;
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

  /** An object exists at that key already: photos are never overwritten. */
  get isTaken(): boolean {
    return this.status === PRECONDITION_FAILED;
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

/**
 * PutObject that only creates (If-None-Match: *, which the app users' role requires), SigV4-signed
 * (UNSIGNED-PAYLOAD; Content-Type and If-None-Match signed), reporting progress. An existing key fails
 * with UploadError 412 (`isTaken`).
 */
export async function uploadObject(options: UploadOptions): Promise<void> {
  const url = objectUrl(options.region, options.key);
  const signed = await signRequest(options.credentials, {
    url,
    method: 'PUT',
    region: options.region.region,
    service: 's3',
    headers: { 'content-type': options.contentType, 'if-none-match': '*' },
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
      if (xhr.status === PRECONDITION_FAILED) {
        done(new UploadError('A photo is stored under this id already; photos are never overwritten', xhr.status));
      } else if (xhr.status >= 500 || xhr.status === 0) {
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

export interface PublishSteps {
  /** A fresh photo id. */
  newId: () => string;
  /** Create the object at `key` (uploadObject); throws UploadError. */
  upload: (key: string) => Promise<void>;
  /** Register `photoId` through the API as the owner; throws ApiError. */
  register: (photoId: string) => Promise<{ owner: string; createdAt: number | null }>;
  /** Called once the bytes are stored, before registering. */
  onUploaded?: () => void;
}

export interface Published {
  photoId: string;
  key: string;
  owner: string;
  createdAt: number | null;
}

/** Neither the bytes nor the record could be stored under a fresh id: nothing was published. */
export class PhotoIdTakenError extends Error {
  override name = 'PhotoIdTakenError';
}

/**
 * Upload under the owner's own prefix, then register. An id whose object exists (412) or whose
 * registration exists (409 PHOTO_EXISTS) is never reused: a new id is tried, `attempts` times in all.
 * Bytes left by a refused registration stay unregistered, invisible, and are swept by operators.
 */
export async function publishPhoto(owner: string, steps: PublishSteps, attempts = 2): Promise<Published> {
  for (let attempt = 1; ; attempt++) {
    const photoId = steps.newId();
    const key = photoKey(owner, photoId);
    const last = attempt >= attempts;
    try {
      await steps.upload(key);
    } catch (error) {
      if (error instanceof UploadError && error.isTaken && !last) continue;
      if (error instanceof UploadError && error.isTaken) {
        throw new PhotoIdTakenError('Every photo id tried was taken already; nothing was uploaded. Try again.');
      }
      throw error;
    }
    steps.onUploaded?.();
    try {
      const saved = await steps.register(photoId);
      return { photoId, key, owner: saved.owner || owner, createdAt: saved.createdAt };
    } catch (error) {
      if (error instanceof ApiError && error.isPhotoExists && !last) continue;
      if (error instanceof ApiError && error.isPhotoExists) {
        throw new PhotoIdTakenError('The photo id was registered by someone else meanwhile; the photo was not saved. Try again.');
      }
      throw error;
    }
  }
}
