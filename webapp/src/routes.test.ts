import { describe, expect, it } from 'vitest';
import contract from './contract.json';
import { MAX_PHOTO_BYTES, PHOTO_ID_PATTERN, USERNAME_PATTERN, guessPhotoKey, legacyPhotoKey, photoKey, routeMethod, routePath } from './routes';

describe('routes from contract.json', () => {
  it('writes name their owner in the path; reads do not', () => {
    expect(routePath('registerPhoto', { owner: 'alice' })).toBe('/users/alice/photos');
    expect(routePath('postComment', { owner: 'alice', photoId: 'p1' })).toBe('/users/alice/comments/p1');
    expect(routePath('listPhotos')).toBe('/photos');
    expect(routePath('listComments', { photoId: 'p1' })).toBe('/comments/p1');
    expect([routeMethod('registerPhoto'), routeMethod('postComment'), routeMethod('listPhotos')]).toEqual(['POST', 'POST', 'GET']);
  });

  it('encodes each parameter as one segment and refuses a missing one', () => {
    expect(routePath('postComment', { owner: 'a/b', photoId: '../x?y' })).toBe('/users/a%2Fb/comments/..%2Fx%3Fy');
    expect(() => routePath('registerPhoto')).toThrow(/owner/);
  });

  it('keys a photo under its owner', () => {
    expect(photoKey('alice', 'p1')).toBe('public/alice/p1');
    expect(contract.photoKey).toBe('public/{owner}/{photoId}');
  });

  it('reads the old form: records of identity-id owners live at public/<photoId>', () => {
    expect(legacyPhotoKey('p1')).toBe('public/p1');
    expect(guessPhotoKey('us-east-1:3f2a', 'p1')).toBe('public/p1');
    expect(guessPhotoKey('alice', 'p1')).toBe('public/alice/p1');
  });

  it('patterns and limits come from the program', () => {
    expect(USERNAME_PATTERN.test('demo')).toBe(true);
    expect(USERNAME_PATTERN.test('alice/x')).toBe(false);
    expect(USERNAME_PATTERN.test('Alice')).toBe(false);
    expect(PHOTO_ID_PATTERN.test('abc_DEF-1')).toBe(true);
    expect(PHOTO_ID_PATTERN.test('../x')).toBe(false);
    expect(MAX_PHOTO_BYTES).toBe(10 * 1024 * 1024);
  });
});
