// Server-side renders of the components: what a user (or a browser test) finds on the page.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { FENCED_MESSAGE, type RouteStatus, type Routing } from '../routing';
import { testConfig } from '../testing/fakes';
import { Banner } from './Banner';
import type { Services } from './PhotoApp';
import { CommentForm } from './PhotoViewer';
import { SignInForm } from './SignInForm';
import { UploadPanel } from './UploadPanel';

const config = testConfig();

function status(state: Routing['state'], answeredBy: 'primary' | 'secondary' = 'primary'): RouteStatus {
  const region = (role: 'primary' | 'secondary') => ({ role, region: config[role].region });
  const read = state === 'active' ? region('primary') : state === 'failover' ? region('secondary') : region(answeredBy);
  return {
    kind: 'ok',
    failures: [],
    routing: { state, version: 1, answeredBy: region(answeredBy), read, write: state === 'fenced' ? null : read, checkedAt: 0 },
  };
}

function testId(html: string, id: string): string | null {
  const match = new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html);
  return match ? match[1]! : null;
}

const services = { config, me: 'me', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }) } as unknown as Services;

describe('Banner', () => {
  it.each([
    ['active', 'us-east-1', 'primary region (us-east-1) serves reads and writes'],
    ['failover', 'ap-northeast-1', 'secondary region (ap-northeast-1) serves reads and writes'],
    ['fenced', 'us-east-1', FENCED_MESSAGE],
  ] as const)('%s: app-state and region exactly, with an explanation', (state, region, text) => {
    const html = renderToStaticMarkup(<Banner status={status(state)} signedIn checking={false} config={config} />);
    expect(testId(html, 'app-state')).toBe(state);
    expect(testId(html, 'region')).toBe(region);
    expect(html).toContain(text);
  });

  it('fenced read from the secondary shows the secondary', () => {
    const html = renderToStaticMarkup(<Banner status={status('fenced', 'secondary')} signedIn checking={false} config={config} />);
    expect(testId(html, 'region')).toBe('ap-northeast-1');
  });

  it('both regions unreachable: an alert and a retry button', () => {
    const unreachable: RouteStatus = {
      kind: 'unreachable',
      checkedAt: 0,
      last: null,
      failures: [
        { role: 'primary', region: 'us-east-1', reason: 'network', message: 'Region us-east-1 cannot be reached' },
        { role: 'secondary', region: 'ap-northeast-1', reason: 'timeout', message: 'Region ap-northeast-1 did not answer within 2 s' },
      ],
    };
    const html = renderToStaticMarkup(<Banner status={unreachable} signedIn checking={false} config={config} onRetry={() => {}} />);
    expect(html).toContain('role="alert"');
    expect(html).toContain('Region us-east-1 cannot be reached. Region ap-northeast-1 did not answer within 2 s.');
    expect(html).toContain('Retry now');
    expect(html).toContain('data-testid="app-state"');
  });

  it('is there before sign-in too', () => {
    const html = renderToStaticMarkup(<Banner status={{ kind: 'unknown' }} signedIn={false} checking={false} config={config} />);
    expect(html).toContain('data-testid="app-state"');
    expect(html).toContain('data-testid="region"');
    expect(html).toContain('Sign in to see');
  });
});

describe('SignInForm', () => {
  it('has labelled Username and Password inputs and a Sign in button', () => {
    const html = renderToStaticMarkup(<SignInForm config={config} notice={null} onSignedIn={() => {}} />);
    const label = (text: string) => new RegExp(`<label for="([^"]+)">${text}</label>`).exec(html)?.[1];
    const userId = label('Username');
    const passId = label('Password');
    expect(userId).toBeTruthy();
    expect(passId).toBeTruthy();
    expect(html).toContain(`id="${userId}"`);
    expect(html).toMatch(new RegExp(`id="${passId}"[^>]*type="password"`));
    expect(html).toMatch(/<button type="submit"[^>]*>Sign in<\/button>/);
  });
});

describe('CommentForm', () => {
  it('labelled Comment, counter 0/1000, Post disabled while empty', () => {
    const html = renderToStaticMarkup(<CommentForm services={services} photoId="p" writeBlock={null} onPosted={() => {}} />);
    expect(html).toMatch(/<label for="[^"]+">Comment<\/label>/);
    expect(testId(html, 'comment-counter')).toBe('0/1000');
    expect(html).toMatch(/<button type="submit" class="button primary" disabled="">Post<\/button>/);
  });

  it('fenced: textarea and Post disabled with the explanation', () => {
    const html = renderToStaticMarkup(<CommentForm services={services} photoId="p" writeBlock={FENCED_MESSAGE} onPosted={() => {}} />);
    expect(html).toMatch(/<textarea[^>]*disabled=""/);
    expect(html).toContain(FENCED_MESSAGE);
  });
});

describe('UploadPanel', () => {
  it('file input labelled "Upload photo", images only', () => {
    const html = renderToStaticMarkup(<UploadPanel services={services} writeBlock={null} onUploaded={() => {}} />);
    const id = /<label for="([^"]+)"[^>]*>Upload photo<\/label>/.exec(html)?.[1];
    expect(id).toBeTruthy();
    expect(html).toMatch(new RegExp(`<input id="${id}" type="file" accept="image/\\*"`));
    expect(html).not.toMatch(/type="file"[^>]*disabled/);
  });

  it('fenced: the input and the drop zone are disabled, with the explanation', () => {
    const html = renderToStaticMarkup(<UploadPanel services={services} writeBlock={FENCED_MESSAGE} onUploaded={() => {}} />);
    expect(html).toMatch(/type="file"[^>]*disabled=""/);
    expect(html).toMatch(/class="dropzone disabled" data-testid="drop-zone" aria-disabled="true"/);
    expect(html).toContain(FENCED_MESSAGE);
  });
});

describe('Banner with the primary unreachable', () => {
  it('active read from the secondary says the primary cannot be reached', () => {
    const s = status('active', 'secondary');
    if (s.kind !== 'ok') throw new Error();
    s.failures.push({ role: 'primary', region: 'us-east-1', reason: 'timeout', message: 'Region us-east-1 did not answer within 2 s' });
    const html = renderToStaticMarkup(<Banner status={s} signedIn checking={false} config={config} />);
    expect(testId(html, 'app-state')).toBe('active');
    expect(testId(html, 'region')).toBe('us-east-1');
    expect(html).toContain('cannot be reached right now');
    expect(html).toContain('state read from ap-northeast-1');
  });
});
