import type { Photo } from '../api';
import type { RegionConfig } from '../config';
import { authorLabel, isoTime, timeLabel } from '../format';
import type { Services } from './PhotoApp';
import { SmartImage } from './SmartImage';

interface Props {
  services: Services;
  region: RegionConfig | null;
  photos: Photo[];
  loading: boolean;
  waiting: boolean;
  error: string | null;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
  onRefresh: () => void;
  onOpen: (photoId: string) => void;
}

export function Gallery(props: Props) {
  const { services, region, photos, loading, waiting, error, hasMore, loadingMore } = props;
  return (
    <section className="gallery" aria-labelledby="gallery-title">
      <div className="section-head">
        <h2 id="gallery-title">Gallery</h2>
        <span className="muted">{region ? `from ${region.region}` : ''}</span>
        <button type="button" className="button secondary small push" onClick={props.onRefresh} disabled={!region || loading}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="notice error" role="alert">
          The gallery could not be loaded: {error}
        </p>
      )}
      {waiting && <p className="muted">Finding the region to read from…</p>}
      {!waiting && loading && photos.length === 0 && <p className="muted" role="status">Loading photos…</p>}
      {!loading && !error && photos.length === 0 && region && (
        <div className="empty">
          <p>No photos yet.</p>
          <p className="muted">Upload the first one.</p>
        </div>
      )}
      {region && photos.length > 0 && (
        <ul className="grid" aria-label="Photos, newest first">
          {photos.map((photo) => (
            <li key={photo.photoId} className="tile" data-photo-id={photo.photoId}>
              <button
                type="button"
                className="tile-button"
                onClick={() => props.onOpen(photo.photoId)}
                aria-label={`Open photo by ${authorLabel(photo.owner, services.me)}${photo.createdAt ? `, ${timeLabel(photo.createdAt)}` : ''}`}
              >
                <SmartImage
                  region={region}
                  objectKey={photo.key}
                  alt={`Photo by ${authorLabel(photo.owner, services.me)}`}
                  credentials={services.credentials}
                  className="thumb"
                />
                <span className="tile-meta">
                  <span>{authorLabel(photo.owner, services.me)}</span>
                  <time dateTime={isoTime(photo.createdAt)}>{timeLabel(photo.createdAt)}</time>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {hasMore && (
        <div className="center">
          <button type="button" className="button secondary" onClick={props.onLoadMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}
