// uiConfig.json: where each region's APIs, bucket and Cognito pools are.
// Served from the same origin as the app (the stack writes it next to index.html).

export type Role = 'primary' | 'secondary';
export const ROLES: readonly Role[] = ['primary', 'secondary'];

export interface RegionConfig {
  region: string;
  /** GET -> {"state", "version"}; a full URL. */
  stateUrl: string;
  /** Invoke URL of the photos API stage, no trailing slash. */
  photosApi: string;
  objectStoreBucketName: string;
  userPoolId: string;
  userPoolClientId: string;
  identityPoolId: string;
  /** Local sandbox only: Cognito and S3 of this region are served here (S3 path-style). */
  endpoint?: string;
}

export interface UiConfig {
  appId: string;
  uiRegion: string;
  primary: RegionConfig;
  secondary: RegionConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const REGION_KEYS = [
  'region',
  'stateUrl',
  'photosApi',
  'objectStoreBucketName',
  'userPoolId',
  'userPoolClientId',
  'identityPoolId',
] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function parseRegion(role: Role, value: unknown): RegionConfig {
  if (!isRecord(value)) throw new ConfigError(`uiConfig.json: "${role}" is missing`);
  for (const key of REGION_KEYS) {
    if (typeof value[key] !== 'string' || value[key] === '') {
      throw new ConfigError(`uiConfig.json: "${role}.${key}" is missing`);
    }
  }
  for (const key of ['stateUrl', 'photosApi'] as const) {
    if (!/^https?:\/\//.test(value[key] as string)) {
      throw new ConfigError(`uiConfig.json: "${role}.${key}" is not a URL`);
    }
  }
  const endpoint = value.endpoint;
  if (endpoint !== undefined && endpoint !== null && (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint))) {
    throw new ConfigError(`uiConfig.json: "${role}.endpoint" is not a URL`);
  }
  const region: RegionConfig = {
    region: value.region as string,
    stateUrl: value.stateUrl as string,
    photosApi: trimSlash(value.photosApi as string),
    objectStoreBucketName: value.objectStoreBucketName as string,
    userPoolId: value.userPoolId as string,
    userPoolClientId: value.userPoolClientId as string,
    identityPoolId: value.identityPoolId as string,
  };
  if (typeof endpoint === 'string' && endpoint) region.endpoint = trimSlash(endpoint);
  return region;
}

/** Validate a parsed uiConfig.json; throws ConfigError naming the first bad key. */
export function parseUiConfig(value: unknown): UiConfig {
  if (!isRecord(value)) throw new ConfigError('uiConfig.json is not a JSON object');
  const primary = parseRegion('primary', value.primary);
  const secondary = parseRegion('secondary', value.secondary);
  if (primary.region === secondary.region) {
    throw new ConfigError('uiConfig.json: primary and secondary must be different regions');
  }
  return {
    appId: typeof value.appId === 'string' ? value.appId : '',
    uiRegion: typeof value.uiRegion === 'string' ? value.uiRegion : primary.region,
    primary,
    secondary,
  };
}

export async function loadUiConfig(fetchFn: typeof fetch = fetch, url = '/uiConfig.json'): Promise<UiConfig> {
  let response: Response;
  try {
    response = await fetchFn(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch {
    throw new ConfigError('The configuration (uiConfig.json) cannot be loaded: network error');
  }
  if (!response.ok) {
    throw new ConfigError(`The configuration (uiConfig.json) cannot be loaded: HTTP ${response.status}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ConfigError('uiConfig.json is not valid JSON');
  }
  return parseUiConfig(body);
}

export function otherRole(role: Role): Role {
  return role === 'primary' ? 'secondary' : 'primary';
}

// ---- AWS endpoints of a region (real, or the sandbox's `endpoint`) ----

export function cognitoIdpUrl(region: RegionConfig): string {
  return region.endpoint ? `${region.endpoint}/` : `https://cognito-idp.${region.region}.amazonaws.com/`;
}

export function cognitoIdentityUrl(region: RegionConfig): string {
  return region.endpoint ? `${region.endpoint}/` : `https://cognito-identity.${region.region}.amazonaws.com/`;
}

/** The Logins key of an identity pool for tokens of `region`'s user pool. */
export function loginProvider(region: RegionConfig): string {
  return `cognito-idp.${region.region}.amazonaws.com/${region.userPoolId}`;
}

/** URL of an object of the region's photo bucket (virtual-hosted on AWS, path-style in the sandbox). */
export function objectUrl(region: RegionConfig, key: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (region.endpoint) {
    return `${region.endpoint}/${encodeURIComponent(region.objectStoreBucketName)}/${path}`;
  }
  return `https://${region.objectStoreBucketName}.s3.${region.region}.amazonaws.com/${path}`;
}
