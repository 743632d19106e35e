// The photos API and the routing API, every call SigV4-signed (AWS_IAM) for the API's own region.

import type { RegionConfig, Role, UiConfig } from './config';
import { guessPhotoKey, routePath } from './routes';
import type { FetchState } from './routing';
import { signRequest, type AwsCredentials } from './sigv4';

export const API_TIMEOUT_MS = 10_000;
export const MAX_COMMENT_LENGTH = 1000;
export const PAGE_SIZE = 24;

export interface Photo {
  photoId: string;
  key: string;
  owner: string;
  createdAt: number | null;
  size: number | null;
  contentType: string;
}

export interface PhotoPage {
  photos: Photo[];
  next: string | null;
}

export interface Comment {
  commentId: string;
  photoId: string;
  user: string;
  message: string;
  createdAt: number | null;
}

/** An API answer other than 2xx (status > 0), or no answer at all (status 0, code NETWORK/TIMEOUT). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }

  get isReadOnly(): boolean {
    return this.status === 409 && this.code === 'READ_ONLY';
  }

  /** The photo id is registered already (by anyone): upload under a new id. */
  get isPhotoExists(): boolean {
    return this.status === 409 && this.code === 'PHOTO_EXISTS';
  }
}

export interface ApiDeps {
  /** Valid credentials (refreshed if needed). */
  credentials: () => Promise<AwsCredentials>;
  /** Renew the credentials after the API rejected them as expired; optional. */
  renewCredentials?: () => Promise<void>;
  fetchFn?: typeof fetch;
  timeoutMs?: number;
}

interface SignedCall {
  url: string;
  method: 'GET' | 'POST';
  region: string;
  body?: unknown;
  signal?: AbortSignal;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

function errorFrom(status: number, body: unknown): ApiError {
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof record.code === 'string' ? record.code : `HTTP_${status}`;
  const message =
    (typeof record.message === 'string' && record.message) ||
    (typeof record.Message === 'string' && record.Message) ||
    `The server answered HTTP ${status}`;
  return new ApiError(status, code, message);
}

function looksExpired(error: ApiError): boolean {
  return (
    error.status === 403 &&
    (error.code === 'EXPIRED_TOKEN' || /expired|security token included in the request is invalid/i.test(error.message))
  );
}

/** One signed call, answering status and parsed body; throws ApiError(0) when there is no answer. */
export async function signedCall(deps: ApiDeps, call: SignedCall): Promise<{ status: number; body: unknown }> {
  const fetchFn = deps.fetchFn ?? fetch;
  const timeoutMs = deps.timeoutMs ?? API_TIMEOUT_MS;
  const bodyText = call.body === undefined ? undefined : JSON.stringify(call.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (bodyText !== undefined) headers['content-type'] = 'application/json';
  const credentials = await deps.credentials();
  const signed = await signRequest(credentials, {
    url: call.url,
    method: call.method,
    region: call.region,
    service: 'execute-api',
    headers,
    ...(bodyText !== undefined ? { body: bodyText } : {}),
  });
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  if (call.signal?.aborted) controller.abort();
  call.signal?.addEventListener('abort', onAbort);
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetchFn(signed.url, {
      method: call.method,
      headers: signed.headers,
      ...(bodyText !== undefined ? { body: bodyText } : {}),
      signal: controller.signal,
      cache: 'no-store',
      credentials: 'omit',
    });
    return { status: response.status, body: await readBody(response) };
  } catch {
    const timedOut = controller.signal.aborted && !call.signal?.aborted;
    throw new ApiError(
      0,
      timedOut ? 'TIMEOUT' : 'NETWORK',
      timedOut ? `Region ${call.region} did not answer in time` : `Region ${call.region} cannot be reached`,
    );
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener('abort', onAbort);
  }
}

/** signedCall, renewing expired credentials once when the API rejects them. */
export async function signedCallRenewing(deps: ApiDeps, call: SignedCall): Promise<{ status: number; body: unknown }> {
  const answer = await signedCall(deps, call);
  if (answer.status === 403 && deps.renewCredentials && looksExpired(errorFrom(answer.status, answer.body))) {
    await deps.renewCredentials();
    return signedCall(deps, call);
  }
  return answer;
}

/** A signed JSON call: 2xx body, else ApiError. Expired credentials are renewed once. */
export async function signedJson<T>(deps: ApiDeps, call: SignedCall): Promise<T> {
  const answer = await signedCallRenewing(deps, call);
  if (answer.status >= 200 && answer.status < 300) return answer.body as T;
  throw errorFrom(answer.status, answer.body);
}

/** The router's state fetch: a signed GET of a region's stateUrl. */
export function stateFetcher(config: UiConfig, deps: ApiDeps): FetchState {
  return async (role: Role, signal: AbortSignal) => {
    const region = config[role];
    return signedCallRenewing(deps, { url: region.stateUrl, method: 'GET', region: region.region, signal });
  };
}

function asNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function parsePhotoPage(body: unknown): PhotoPage {
  const record = (body ?? {}) as { photos?: unknown; next?: unknown };
  const photos = Array.isArray(record.photos) ? record.photos : [];
  return {
    photos: photos
      .filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null && typeof p.photoId === 'string')
      .map((p) => ({
        photoId: p.photoId as string,
        // The stored key as it is (old records: public/<photoId>, owner an identity id); guessed only if absent.
        key: asString(p.key) || guessPhotoKey(asString(p.owner), p.photoId as string),
        owner: asString(p.owner),
        createdAt: asNumber(p.createdAt),
        size: asNumber(p.size),
        contentType: asString(p.contentType),
      })),
    next: typeof record.next === 'string' && record.next ? record.next : null,
  };
}

export function parseComments(body: unknown): Comment[] {
  const record = (body ?? {}) as { comments?: unknown };
  const comments = Array.isArray(record.comments) ? record.comments : [];
  return comments
    .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
    .map((c) => ({
      commentId: asString(c.commentId),
      photoId: asString(c.photoId),
      user: asString(c.user),
      message: asString(c.message),
      createdAt: asNumber(c.createdAt),
    }));
}

/** The photos API of one region. */
export class PhotosClient {
  constructor(
    readonly region: RegionConfig,
    private readonly deps: ApiDeps,
  ) {}

  private url(path: string, query?: Record<string, string | undefined>): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, v);
    const qs = params.toString();
    return `${this.region.photosApi}${path}${qs ? `?${qs}` : ''}`;
  }

  async listPhotos(cursor?: string | null, limit = PAGE_SIZE, signal?: AbortSignal): Promise<PhotoPage> {
    const body = await signedJson<unknown>(this.deps, {
      url: this.url(routePath('listPhotos'), { limit: String(limit), cursor: cursor ?? undefined }),
      method: 'GET',
      region: this.region.region,
      ...(signal ? { signal } : {}),
    });
    return parsePhotoPage(body);
  }

  /** Register an uploaded photo as `owner` (the caller's username: IAM lets them use only their own). */
  async createPhoto(
    owner: string,
    photo: { photoId: string; size: number; contentType: string },
  ): Promise<{ owner: string; createdAt: number | null }> {
    const body = await signedJson<Record<string, unknown>>(this.deps, {
      url: this.url(routePath('registerPhoto', { owner })),
      method: 'POST',
      region: this.region.region,
      body: photo,
    });
    return { owner: asString(body?.owner) || owner, createdAt: asNumber(body?.createdAt) };
  }

  async listComments(photoId: string, signal?: AbortSignal): Promise<Comment[]> {
    const body = await signedJson<unknown>(this.deps, {
      url: this.url(routePath('listComments', { photoId })),
      method: 'GET',
      region: this.region.region,
      ...(signal ? { signal } : {}),
    });
    return parseComments(body);
  }

  /** Comment as `owner` (the caller's username, the author in both regions). */
  async postComment(owner: string, photoId: string, message: string): Promise<Comment> {
    const body = await signedJson<Record<string, unknown>>(this.deps, {
      url: this.url(routePath('postComment', { owner, photoId })),
      method: 'POST',
      region: this.region.region,
      body: { message },
    });
    return {
      commentId: asString(body?.commentId),
      photoId: asString(body?.photoId) || photoId,
      user: asString(body?.user) || owner,
      message,
      createdAt: asNumber(body?.createdAt),
    };
  }
}

/** A comment message the API accepts: 1..1000 characters (UTF-16 units, the stricter count). */
export function commentProblem(message: string): string | null {
  if (message.trim().length === 0) return 'Write a comment first';
  if (message.length > MAX_COMMENT_LENGTH) return `A comment has at most ${MAX_COMMENT_LENGTH} characters`;
  return null;
}
