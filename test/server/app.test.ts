import { afterEach, describe, expect, it } from 'vitest';
import { github, type Harness, harness, post, SECRETS, shared } from './harness.js';

let h: Harness;
afterEach(() => h?.close());

describe('health and readiness', () => {
  it('GET /healthz answers 200 while the process runs', async () => {
    h = harness();
    const response = await h.app.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when the store and AWS answer, 503 saying which does not', async () => {
    h = harness();
    const ready = await h.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', aws: 'ok' } });

    h.close();
    h = harness({
      checkAws: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      },
    });
    const down = await h.app.request('/readyz');
    expect(down.status).toBe(503);
    const body = (await down.json()) as { error: { code: string; message: string } };
    expect(body.error).toEqual({
      code: 'server.not-ready',
      message: 'aws: connect ECONNREFUSED 127.0.0.1:1',
    });
  });

  it('GET /readyz is 503 when AWS does not answer in time', async () => {
    h = harness({ checkAws: () => new Promise(() => {}), checkAwsTimeoutMs: 200 });
    const started = Date.now();
    const response = await h.app.request('/readyz');
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      'aws: no answer within 200 ms',
    );
  });

  it('GET /readyz is 503 once the store is closed', async () => {
    h = harness();
    h.store.close();
    const response = await h.app.request('/readyz');
    expect(response.status).toBe(503);
    expect(((await response.json()) as { checks: { store: string } }).checks.store).not.toBe('ok');
  });

  it('while draining, deliveries and /readyz answer 503 and nothing is recorded', async () => {
    let draining = false;
    h = harness({ draining: () => draining });
    draining = true;
    const response = await post(h, 'gh', github(shared('github')));
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'server.shutting-down',
    );
    expect((await h.app.request('/readyz')).status).toBe(503);
    expect((await h.app.request('/healthz')).status).toBe(200);
    expect(h.jobCount()).toBe(0);
  });

  it('unknown routes answer a JSON 404', async () => {
    h = harness();
    const response = await h.app.request('/nope');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'http.not-found',
    );
  });

  it('an unexpected failure answers 500 with the request id, and logs it', async () => {
    h = harness({
      worker: {
        wake() {},
      },
      clock: {
        now: () => {
          throw new TypeError('clock broke');
        },
        sleep: async () => {},
      },
    });
    const response = await post(h, 'gh', github(shared('github')));
    expect(response.status).toBe(500);
    const requestId = response.headers.get('x-request-id');
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('server.internal');
    expect(body.error.message).toContain(requestId);
    expect(body.error.message).not.toContain('clock broke');
    const logged = h.logLines().find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({ requestId, err: { name: 'TypeError', message: 'clock broke' } });
  });
});

describe('GET /metrics', () => {
  it('counts deliveries by host and outcome, worker events, queue depth and latencies', async () => {
    h = harness({ watcherCalls: () => 7 });
    await post(h, 'gh', github(shared('github')));
    await post(h, 'gh', github(shared('github'), { secret: 'wrong' }));
    await post(h, 'gh', github(shared('github'), { event: 'issues' }));
    await post(h, 'nope', github(shared('github')));
    h.metrics.buildStarted('demo');
    h.metrics.statusPosted('gh', 'pending');
    h.metrics.statusPosted('gh', 'pending');
    h.metrics.statusFailed('gh');

    const response = await h.app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    const lines = text.split('\n');
    for (const expected of [
      '# TYPE codebuild_run_webhook_deliveries_total counter',
      'codebuild_run_webhook_deliveries_total{host="gh",outcome="accepted"} 1',
      'codebuild_run_webhook_deliveries_total{host="gh",outcome="unauthorized"} 1',
      'codebuild_run_webhook_deliveries_total{host="gh",outcome="ignored"} 1',
      'codebuild_run_webhook_deliveries_total{host="_unknown",outcome="unknown-host"} 1',
      'codebuild_run_builds_started_total{project="demo"} 1',
      'codebuild_run_statuses_posted_total{host="gh",state="pending"} 2',
      'codebuild_run_status_failures_total{host="gh"} 1',
      'codebuild_run_jobs{step="start"} 1',
      'codebuild_run_queue_depth 1',
      'codebuild_run_watcher_calls_total 7',
      '# TYPE codebuild_run_http_request_duration_seconds histogram',
      'codebuild_run_http_request_duration_seconds_count{route="/webhooks/:hostId"} 4',
      'codebuild_run_http_request_duration_seconds_bucket{route="/webhooks/:hostId",le="+Inf"} 4',
    ]) {
      expect(lines).toContain(expected);
    }
    // Buckets are cumulative and end at the count.
    const buckets = lines
      .filter((l) => l.startsWith('codebuild_run_http_request_duration_seconds_bucket{route="/w'))
      .map((l) => Number(l.split(' ')[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(buckets.at(-1)).toBe(4);
    // Every sample line is `name{labels} value`.
    for (const line of lines.filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$/);
    }
  });

  it('escapes label values', () => {
    h = harness();
    h.metrics.buildStarted('a"b\\c\nd');
    const text = h.metrics.render({ stats: () => h.store.stats(), watcherCalls: () => null });
    expect(text).toContain('codebuild_run_builds_started_total{project="a\\"b\\\\c\\nd"} 1');
    expect(text).not.toContain('watcher_calls');
  });
});

describe('logs', () => {
  it('one JSON line per request with request id, host, delivery id and outcome; no secret, no body', async () => {
    h = harness();
    const delivery = github(shared('github'));
    const response = await post(h, 'gh', delivery);
    await post(h, 'gl', github(shared('github')));
    const lines = h.logLines().filter((line) => line.msg === 'request');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      requestId: response.headers.get('x-request-id'),
      method: 'POST',
      path: '/webhooks/gh',
      status: 202,
      hostId: 'gh',
      deliveryId: delivery.headers['x-github-delivery'],
      outcome: 'accepted',
    });
    expect(lines[1]).toMatchObject({
      hostId: 'gl',
      status: 401,
      outcome: 'unauthorized',
      error: 'webhook.missing-header',
    });
    const text = h.logText();
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(text).not.toContain(delivery.headers['x-hub-signature-256']);
    expect(text).not.toContain('Codertocat');
  });

  it('keeps a sane X-Request-Id from the caller and makes one otherwise', async () => {
    h = harness();
    const kept = await h.app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await h.app.request('/healthz', { headers: { 'x-request-id': 'a b\n' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
