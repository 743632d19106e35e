import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { MAX_COMMENT_LENGTH, commentProblem, type Comment, type Photo } from '../api';
import type { Role } from '../config';
import { authorLabel, isoTime, sizeLabel, timeLabel } from '../format';
import { WriteRefusedError } from '../routing';
import { errorMessage, type Services } from './PhotoApp';
import { SmartImage } from './SmartImage';

interface Props {
  services: Services;
  photoId: string;
  /** The gallery's record of the photo, when known. */
  photo: Photo | null;
  readRole: Role | null;
  writeBlock: string | null;
  onClose: () => void;
}

export function PhotoViewer({ services, photoId, photo, readRole, writeBlock, onClose }: Props) {
  const titleId = useId();
  const closeRef = useRef<HTMLButtonElement>(null);
  const [comments, setComments] = useState<Comment[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = useCallback(
    async (role: Role, signal?: AbortSignal) => {
      setLoading(true);
      setLoadError(null);
      try {
        const list = await services.client(role).listComments(photoId, signal);
        if (signal?.aborted) return;
        setComments(list);
      } catch (error) {
        if (signal?.aborted) return;
        setLoadError(errorMessage(error));
        services.reportError(error);
      } finally {
        if (!signal?.aborted) setLoading(false);
      }
    },
    [photoId, services],
  );

  // Comments come from the region in use; re-read when it changes.
  useEffect(() => {
    if (!readRole) return;
    const controller = new AbortController();
    void load(readRole, controller.signal);
    return () => controller.abort();
  }, [readRole, load]);

  useEffect(() => {
    closeRef.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    const overflow = document.body.style.overflow;
    document.body.style.overflow = 'hidden';
    return () => {
      document.removeEventListener('keydown', onKey);
      document.body.style.overflow = overflow;
    };
  }, [onClose]);

  const region = readRole ? services.config[readRole] : null;
  const owner = photo ? authorLabel(photo.owner, services.me) : null;

  return (
    <div
      className="overlay"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="viewer" role="dialog" aria-modal="true" aria-labelledby={titleId}>
        <div className="viewer-image">
          {/* The object key is the gallery record's (it names the owner): no record yet, no guess. */}
          {region && photo && (
            <SmartImage
              region={region}
              objectKey={photo.key}
              alt={owner ? `Photo by ${owner}` : 'Photo'}
              credentials={services.credentials}
              className="large"
              eager
            />
          )}
          {region && !photo && <p className="muted">Looking for this photo in the gallery…</p>}
        </div>
        <aside className="viewer-side">
          <div className="viewer-head">
            <h2 id={titleId}>{owner ? `Photo by ${owner}` : 'Photo'}</h2>
            <button ref={closeRef} type="button" className="button secondary small" onClick={onClose} aria-label="Close">
              ✕
            </button>
          </div>
          {photo && (
            <p className="muted small-text">
              <time dateTime={isoTime(photo.createdAt)}>{timeLabel(photo.createdAt)}</time>
              {photo.size ? ` · ${sizeLabel(photo.size)}` : ''}
              {photo.contentType ? ` · ${photo.contentType}` : ''}
            </p>
          )}
          <h3 className="comments-title">Comments</h3>
          {loadError && (
            <p className="notice error" role="alert">
              The comments could not be loaded: {loadError}{' '}
              <button type="button" className="link" onClick={() => readRole && void load(readRole)}>
                Retry
              </button>
            </p>
          )}
          {loading && comments.length === 0 && !loadError && <p className="muted">Loading comments…</p>}
          {!loading && !loadError && comments.length === 0 && <p className="muted">No comments yet.</p>}
          <ol className="comments">
            {comments.map((c) => (
              <li key={c.commentId || `${c.createdAt}-${c.message}`} className="comment">
                <div className="comment-meta">
                  <strong className={c.user === services.me ? 'me' : undefined}>{authorLabel(c.user, services.me)}</strong>
                  <time dateTime={isoTime(c.createdAt)}>{timeLabel(c.createdAt)}</time>
                </div>
                <p className="comment-text">{c.message}</p>
              </li>
            ))}
          </ol>
          <CommentForm
            services={services}
            photoId={photoId}
            writeBlock={writeBlock}
            onPosted={(c) => setComments((list) => [...list.filter((x) => x.commentId !== c.commentId), c])}
          />
        </aside>
      </div>
    </div>
  );
}

interface CommentFormProps {
  services: Services;
  photoId: string;
  writeBlock: string | null;
  onPosted: (comment: Comment) => void;
}

export function CommentForm({ services, photoId, writeBlock, onPosted }: CommentFormProps) {
  const id = useId();
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const length = message.length;
  const problem = commentProblem(message);
  const disabled = writeBlock !== null;

  async function submit(event: { preventDefault(): void }) {
    event.preventDefault();
    if (busy || problem || disabled) return;
    setBusy(true);
    setError(null);
    try {
      const target = await services.router.beforeWrite();
      const posted = await services.client(target.role).postComment(services.me, photoId, message);
      onPosted({ ...posted, user: posted.user || services.me, createdAt: posted.createdAt ?? Date.now() });
      setMessage('');
    } catch (e) {
      setError(errorMessage(e));
      if (!(e instanceof WriteRefusedError)) services.reportError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="comment-form" onSubmit={submit}>
      <label htmlFor={`${id}-comment`}>Comment</label>
      <textarea
        id={`${id}-comment`}
        rows={3}
        value={message}
        disabled={disabled}
        placeholder={disabled ? '' : 'Say something nice…'}
        onChange={(e) => setMessage(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) void submit(e);
        }}
        aria-describedby={`${id}-count`}
        aria-invalid={length > MAX_COMMENT_LENGTH}
      />
      <div className="comment-actions">
        <span id={`${id}-count`} className={`counter${length > MAX_COMMENT_LENGTH ? ' over' : ''}`} data-testid="comment-counter">
          {length}/{MAX_COMMENT_LENGTH}
        </span>
        <button type="submit" className="button primary" disabled={disabled || busy || problem !== null}>
          {busy ? 'Posting…' : 'Post'}
        </button>
      </div>
      {writeBlock && (
        <p className="notice warn" role="status">
          {writeBlock}
        </p>
      )}
      {error && (
        <p className="notice error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
