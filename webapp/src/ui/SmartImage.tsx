import { useEffect, useState } from 'react';
import type { RegionConfig } from '../config';
import { imageUrl } from '../photos';
import type { AwsCredentials } from '../sigv4';

interface Props {
  region: RegionConfig;
  objectKey: string;
  alt: string;
  credentials: () => Promise<AwsCredentials>;
  className?: string;
  eager?: boolean;
}

/** Delay before the n-th retry of an image that is not there yet (replication lag). */
export function retryDelayMs(attempt: number): number {
  return Math.min(2000 + attempt * 1000, 15_000);
}

export type Phase = 'loading' | 'loaded' | 'replicating';

/**
 * What happened to the image: its URL was made (or could not be), the <img> loaded or failed, the retry timer fired.
 * A failed <img> carries no HTTP status: S3 answers a missing object with 404 to callers that may list the bucket
 * and with 403 to the others (app users), so any failure means "not there yet" and is asked again later.
 */
export type ImageEvent = 'url' | 'no-url' | 'loaded' | 'failed' | 'retry';

export function nextPhase(phase: Phase, event: ImageEvent): Phase {
  switch (event) {
    case 'loaded':
      return 'loaded';
    case 'failed':
    case 'no-url':
      return 'replicating';
    case 'retry':
      return 'loading';
    case 'url':
      return phase;
  }
}

/**
 * A photo from a presigned S3 URL of the region in use. While the bytes are not there
 * (the record replicated first), a "replicating…" placeholder shows and the image is
 * asked again a few seconds later: never a broken image.
 */
export function SmartImage({ region, objectKey, alt, credentials, className, eager }: Props) {
  const [attempt, setAttempt] = useState(0);
  const [src, setSrc] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>('loading');

  // A new photo or region starts over.
  useEffect(() => {
    setAttempt(0);
    setPhase('loading');
    setSrc(null);
  }, [region, objectKey]);

  useEffect(() => {
    let cancelled = false;
    credentials()
      .then((c) => imageUrl(c, region, objectKey))
      .then((url) => {
        if (!cancelled) {
          setSrc(url);
          setPhase((p) => nextPhase(p, 'url'));
        }
      })
      .catch(() => {
        if (!cancelled) setPhase((p) => nextPhase(p, 'no-url'));
      });
    return () => {
      cancelled = true;
    };
  }, [region, objectKey, attempt, credentials]);

  useEffect(() => {
    if (phase !== 'replicating') return;
    const timer = setTimeout(() => {
      setPhase((p) => nextPhase(p, 'retry'));
      setSrc(null);
      setAttempt((a) => a + 1);
    }, retryDelayMs(attempt));
    return () => clearTimeout(timer);
  }, [phase, attempt]);

  return (
    <div className={`img-frame ${className ?? ''}`} data-phase={phase}>
      {src && phase !== 'replicating' && (
        <img
          key={src}
          src={src}
          alt={alt}
          loading={eager ? 'eager' : 'lazy'}
          decoding="async"
          className={phase === 'loaded' ? 'img shown' : 'img pending'}
          onLoad={() => setPhase((p) => nextPhase(p, 'loaded'))}
          onError={() => setPhase((p) => nextPhase(p, 'failed'))}
        />
      )}
      {phase !== 'loaded' && (
        <div className="img-placeholder" aria-hidden={phase === 'loading'}>
          {phase === 'replicating' ? (
            <span className="replicating" role="status">
              <span className="spinner" aria-hidden="true" /> replicating…
            </span>
          ) : (
            <span className="spinner" aria-hidden="true" />
          )}
        </div>
      )}
    </div>
  );
}
