// The photos API's routes and the photo object key, from contract.json: a file generated from the
// program's route table (components/routes.py) and checked in sync by the Python tests. Nothing else in
// the web app spells a path or a key.

import contract from './contract.json';

export type RouteName = keyof typeof contract.routes;

export const PHOTO_ID_PATTERN = new RegExp(contract.photoIdPattern);
export const USERNAME_PATTERN = new RegExp(contract.usernamePattern);
export const MAX_PHOTO_BYTES = contract.maxPhotoBytes;

/** `template` with every {name} replaced by `encode(params[name])`; throws naming a missing one. */
function fill(template: string, params: Record<string, string>, encode: (value: string) => string): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${template} needs ${name}`);
    return encode(value);
  });
}

export function routeMethod(name: RouteName): string {
  return contract.routes[name].method;
}

/** The path of a route (below the API's stage URL), each parameter one percent-encoded segment. */
export function routePath(name: RouteName, params: Record<string, string> = {}): string {
  return fill(contract.routes[name].path, params, encodeURIComponent);
}

/** Object key of a photo: its owner's own prefix, where only that owner may create objects. */
export function photoKey(owner: string, photoId: string): string {
  return fill(contract.photoKey, { owner, photoId }, (value) => value);
}

/** Key of a photo registered before keys named their owner (public/<photoId>): such records still read. */
export function legacyPhotoKey(photoId: string): string {
  return fill(contract.photoKey.replace('{owner}/', ''), { photoId }, (value) => value);
}

/** The key a gallery record's photo is stored at when the record does not say: by the owner's form. */
export function guessPhotoKey(owner: string, photoId: string): string {
  return USERNAME_PATTERN.test(owner) ? photoKey(owner, photoId) : legacyPhotoKey(photoId);
}
