import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { PhotosClient, type Photo } from '../api';
import type { Session, SessionManager } from '../auth';
import type { AwsCredentials } from '../sigv4';
import type { Role, UiConfig } from '../config';
import { currentRouting, writeBlockReason, type RegionRouter, type RouteStatus } from '../routing';
import { Gallery } from './Gallery';
import { PhotoViewer } from './PhotoViewer';
import { UploadPanel } from './UploadPanel';

export interface Services {
  config: UiConfig;
  manager: SessionManager;
  router: RegionRouter;
  /** The signed-in user's owner value (their username): the author of what they write, in both regions. */
  me: string;
  credentials: () => Promise<AwsCredentials>;
  client: (role: Role) => PhotosClient;
  /** Report an API/network error: the routing state is checked again. */
  reportError: (error?: unknown) => void;
}

interface GalleryState {
  role: Role | null;
  photos: Photo[];
  next: string | null;
  loading: boolean;
  loadingMore: boolean;
  error: string | null;
}

const EMPTY: GalleryState = { role: null, photos: [], next: null, loading: true, loadingMore: false, error: null };

function photoIdFromPath(pathname: string): string | null {
  const match = /^\/photos\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  return match ? match[1]! : null;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Props {
  config: UiConfig;
  manager: SessionManager;
  session: Session;
  router: RegionRouter;
  status: RouteStatus;
}

export function PhotoApp({ config, manager, session, router, status }: Props) {
  const routing = currentRouting(status);
  const readRole = routing?.read.role ?? null;
  const writeBlock = writeBlockReason(status);

  const services = useMemo<Services>(() => {
    const deps = {
      credentials: () => manager.credentials(),
      renewCredentials: async () => {
        await manager.renew();
      },
    };
    const clients: Record<Role, PhotosClient> = {
      primary: new PhotosClient(config.primary, deps),
      secondary: new PhotosClient(config.secondary, deps),
    };
    return {
      config,
      manager,
      router,
      me: session.owner,
      credentials: deps.credentials,
      client: (role) => clients[role],
      // Any API or network error may mean the routing changed: check the state again.
      reportError: () => router.reportError(),
    };
  }, [config, manager, router, session.owner]);

  // ---- gallery, re-fetched whenever reads move to another region ----
  const [gallery, setGallery] = useState<GalleryState>(EMPTY);
  const loadSeq = useRef(0);

  const loadFirstPage = useCallback(
    async (role: Role) => {
      const seq = ++loadSeq.current;
      setGallery((g) => ({ ...g, role, loading: true, error: null, ...(g.role !== role ? { photos: [], next: null } : {}) }));
      try {
        const page = await services.client(role).listPhotos();
        if (seq !== loadSeq.current) return;
        setGallery({ role, photos: page.photos, next: page.next, loading: false, loadingMore: false, error: null });
      } catch (error) {
        if (seq !== loadSeq.current) return;
        setGallery((g) => ({ ...g, loading: false, error: errorMessage(error) }));
        services.reportError(error);
      }
    },
    [services],
  );

  useEffect(() => {
    if (readRole) void loadFirstPage(readRole);
  }, [readRole, loadFirstPage]);

  // A gallery that failed to load is retried at each routing check (every 10 s) that finds a region.
  const galleryRef = useRef(gallery);
  galleryRef.current = gallery;
  useEffect(() => {
    const g = galleryRef.current;
    if (status.kind === 'ok' && readRole && g.error && !g.loading && g.role === readRole) void loadFirstPage(readRole);
  }, [status, readRole, loadFirstPage]);

  const loadMore = useCallback(async () => {
    const { role, next } = gallery;
    if (!role || !next || gallery.loadingMore) return;
    const seq = loadSeq.current;
    setGallery((g) => ({ ...g, loadingMore: true }));
    try {
      const page = await services.client(role).listPhotos(next);
      if (seq !== loadSeq.current) return;
      setGallery((g) => {
        const known = new Set(g.photos.map((p) => p.photoId));
        return { ...g, photos: [...g.photos, ...page.photos.filter((p) => !known.has(p.photoId))], next: page.next, loadingMore: false };
      });
    } catch (error) {
      if (seq !== loadSeq.current) return;
      setGallery((g) => ({ ...g, loadingMore: false, error: errorMessage(error) }));
      services.reportError(error);
    }
  }, [gallery, services]);

  const onUploaded = useCallback((photo: Photo) => {
    setGallery((g) => ({ ...g, photos: [photo, ...g.photos.filter((p) => p.photoId !== photo.photoId)] }));
  }, []);

  // ---- the open photo, mirrored in the URL (/photos/<id>) ----
  const [openId, setOpenId] = useState<string | null>(() => photoIdFromPath(window.location.pathname));
  const pushed = useRef(false);

  useEffect(() => {
    const onPop = () => {
      pushed.current = false;
      setOpenId(photoIdFromPath(window.location.pathname));
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const openPhoto = useCallback((photoId: string) => {
    window.history.pushState({ photoId }, '', `/photos/${photoId}`);
    pushed.current = true;
    setOpenId(photoId);
  }, []);

  const closePhoto = useCallback(() => {
    if (pushed.current) {
      window.history.back();
    } else {
      window.history.replaceState(null, '', '/');
      setOpenId(null);
    }
  }, []);

  const openPhotoMeta = openId ? (gallery.photos.find((p) => p.photoId === openId) ?? null) : null;
  const readRegion = readRole ? config[readRole] : null;

  return (
    <>
      <UploadPanel services={services} writeBlock={writeBlock} onUploaded={onUploaded} />
      <Gallery
        services={services}
        region={readRegion}
        photos={gallery.photos}
        loading={gallery.loading && readRole !== null}
        waiting={readRole === null}
        error={gallery.error}
        hasMore={Boolean(gallery.next)}
        loadingMore={gallery.loadingMore}
        onLoadMore={loadMore}
        onRefresh={() => readRole && void loadFirstPage(readRole)}
        onOpen={openPhoto}
      />
      {openId && (
        <PhotoViewer
          key={openId}
          services={services}
          photoId={openId}
          photo={openPhotoMeta}
          readRole={readRole}
          writeBlock={writeBlock}
          onClose={closePhoto}
        />
      )}
    </>
  );
}
