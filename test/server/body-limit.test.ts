import { afterEach, describe, expect, it } from 'vitest';
import { github, type Harness, harness, post, shared } from './harness.js';

let h: Harness;
afterEach(() => h?.close());

async function expectError(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
}

function expectNothingStarted() {
  expect(h.jobCount()).toBe(0);
  expect(h.wakes()).toBe(0);
}

describe('the body limit', () => {
  const TEN_MB = 10 * 1024 * 1024;
  const CHUNK = 64 * 1024;

  /** A 10 MB body that counts how much of it was pulled. */
  function countingBody() {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= TEN_MB) return controller.close();
        pulled += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
      },
    });
    return { stream, pulled: () => pulled };
  }

  it('413 for a 10 MB streamed body, reading no further than the limit', async () => {
    h = harness();
    const body = countingBody();
    const response = await h.app.request('/webhooks/gh', {
      method: 'POST',
      headers: github(shared('github')).headers,
      body: body.stream,
      duplex: 'half',
    } as RequestInit);
    await expectError(response, 413, 'webhook.body-too-large');
    expect(body.pulled()).toBeGreaterThan(5 * 1024 * 1024);
    // The stream may be asked for one chunk ahead of the one that crossed the limit.
    expect(body.pulled()).toBeLessThanOrEqual(5 * 1024 * 1024 + 2 * CHUNK);
    expectNothingStarted();
  });

  it('413 before reading anything when Content-Length already says 10 MB', async () => {
    h = harness();
    const body = countingBody();
    const response = await h.app.request('/webhooks/gh', {
      method: 'POST',
      headers: { ...github(shared('github')).headers, 'content-length': String(TEN_MB) },
      body: body.stream,
      duplex: 'half',
    } as RequestInit);
    await expectError(response, 413, 'webhook.body-too-large');
    // A ReadableStream may pre-pull its first chunk; nothing beyond it was read.
    expect(body.pulled()).toBeLessThanOrEqual(2 * CHUNK);
    expectNothingStarted();
  });

  it('400 for a Content-Length that is not a number', async () => {
    h = harness();
    const delivery = github(shared('github'));
    const response = await h.app.request('/webhooks/gh', {
      method: 'POST',
      headers: { ...delivery.headers, 'content-length': 'lots' },
      body: delivery.body,
    });
    await expectError(response, 400, 'http.bad-content-length');
    expectNothingStarted();
  });

  it('takes a configured limit: a real push over 4 KB is refused under a 4 KB limit', async () => {
    h = harness({ bodyLimitBytes: 4096 });
    await expectError(await post(h, 'gh', github(shared('github'))), 413, 'webhook.body-too-large');
    expectNothingStarted();
  });

  it('a signed body of exactly the limit is read and verified', async () => {
    const body = shared('github');
    h = harness({ bodyLimitBytes: body.length });
    expect((await post(h, 'gh', github(body))).status).toBe(202);
  });
});
