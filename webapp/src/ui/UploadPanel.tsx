import { useId, useRef, useState, type DragEvent } from 'react';
import type { Photo } from '../api';
import { fileProblem, newPhotoId, publishPhoto, uploadObject } from '../photos';
import { WriteRefusedError } from '../routing';
import { errorMessage, type Services } from './PhotoApp';

interface Props {
  services: Services;
  /** Why writes are disabled right now (fenced, unreachable, checking), or null. */
  writeBlock: string | null;
  onUploaded: (photo: Photo) => void;
}

type Progress = { phase: 'checking' } | { phase: 'uploading'; fraction: number } | { phase: 'saving' };

export function UploadPanel({ services, writeBlock, onUploaded }: Props) {
  const inputId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const busy = progress !== null;
  const disabled = writeBlock !== null || busy;

  async function upload(file: File) {
    setError(null);
    setDone(null);
    const problem = fileProblem(file);
    if (problem) {
      setError(problem);
      return;
    }
    setProgress({ phase: 'checking' });
    try {
      // The write-time check: the state is asked again right before writing.
      const target = await services.router.beforeWrite();
      const region = services.config[target.role];
      setProgress({ phase: 'uploading', fraction: 0 });
      // Under the user's own prefix, create-only; a taken id (412 or PHOTO_EXISTS) gets a new one once.
      const published = await publishPhoto(services.me, {
        newId: () => newPhotoId(),
        upload: async (key) =>
          uploadObject({
            credentials: await services.credentials(),
            region,
            key,
            body: file,
            contentType: file.type,
            onProgress: (fraction) => setProgress({ phase: 'uploading', fraction }),
          }),
        onUploaded: () => setProgress({ phase: 'saving' }),
        register: (photoId) =>
          services.client(target.role).createPhoto(services.me, { photoId, size: file.size, contentType: file.type }),
      });
      onUploaded({
        photoId: published.photoId,
        key: published.key,
        owner: published.owner,
        createdAt: published.createdAt ?? Date.now(),
        size: file.size,
        contentType: file.type,
      });
      setDone(`"${file.name}" was uploaded to ${region.region}.`);
    } catch (e) {
      setError(e instanceof WriteRefusedError ? e.message : `The photo was not uploaded: ${errorMessage(e)}`);
      if (!(e instanceof WriteRefusedError)) services.reportError(e);
    } finally {
      setProgress(null);
      if (inputRef.current) inputRef.current.value = '';
    }
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    if (disabled) {
      if (writeBlock) setError(writeBlock);
      return;
    }
    const files = event.dataTransfer.files;
    if (!files || files.length === 0) return;
    if (files.length > 1) {
      setError('Drop one photo at a time.');
      return;
    }
    void upload(files[0]!);
  }

  const percent = progress?.phase === 'uploading' ? Math.round(progress.fraction * 100) : null;

  return (
    <section className="upload card" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`} className="visually-hidden">
        Upload
      </h2>
      <div
        className={`dropzone${dragging && !disabled ? ' dragging' : ''}${disabled ? ' disabled' : ''}`}
        data-testid="drop-zone"
        aria-disabled={disabled}
        onDragEnter={(e) => {
          e.preventDefault();
          if (!disabled) setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <input
          ref={inputRef}
          id={inputId}
          type="file"
          accept="image/*"
          className="visually-hidden"
          disabled={disabled}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload(file);
          }}
        />
        <label htmlFor={inputId} className={`button primary${disabled ? ' is-disabled' : ''}`}>
          Upload photo
        </label>
        <span className="muted">or drop an image here · 10 MB max</span>
      </div>
      {writeBlock && !busy && (
        <p className="notice warn" role="status">
          {writeBlock}
        </p>
      )}
      {progress && (
        <div className="progress" role="status">
          <progress max={100} value={percent ?? undefined} aria-label="Upload progress" />
          <span>
            {progress.phase === 'checking' && 'Checking the application state…'}
            {progress.phase === 'uploading' && `Uploading… ${percent}%`}
            {progress.phase === 'saving' && 'Saving…'}
          </span>
        </div>
      )}
      {error && (
        <p className="notice error" role="alert">
          {error}
        </p>
      )}
      {done && !error && (
        <p className="notice ok" role="status">
          {done}
        </p>
      )}
    </section>
  );
}
