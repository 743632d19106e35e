// Small display helpers.

import { USERNAME_PATTERN } from './routes';

/**
 * "you" for the caller's own owner value (their username), the username of anyone else, and for
 * records written before owners were usernames (a region's identity id) a short stable form
 * ("user 3f2a9c1b").
 */
export function authorLabel(owner: string, me: string | null | undefined): string {
  if (!owner) return 'unknown';
  if (me && owner === me) return 'you';
  if (USERNAME_PATTERN.test(owner)) return owner;
  const id = owner.includes(':') ? owner.slice(owner.indexOf(':') + 1) : owner;
  const compact = id.replace(/[^A-Za-z0-9]/g, '');
  return `user ${compact.slice(0, 8) || id.slice(0, 8)}`;
}

/** "just now", "5 min ago", "3 h ago", else a date and time. */
export function timeLabel(epochMs: number | null | undefined, now = Date.now()): string {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs)) return '';
  const seconds = Math.round((now - epochMs) / 1000);
  if (seconds < 45 && seconds > -60) return 'just now';
  if (seconds > 0 && seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds > 0 && seconds < 24 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(epochMs).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function isoTime(epochMs: number | null | undefined): string | undefined {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs)) return undefined;
  return new Date(epochMs).toISOString();
}

export function sizeLabel(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
