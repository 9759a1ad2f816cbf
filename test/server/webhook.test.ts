import { afterEach, describe, expect, it } from 'vitest';
import {
  bitbucket,
  edited,
  gitea,
  github,
  gitlab,
  type Harness,
  harness,
  hmac,
  own,
  post,
  SECRETS,
  shared,
} from './harness.js';

let h: Harness;
afterEach(() => h?.close());

type Answer = { status?: string; reason?: string; builds?: Array<Record<string, unknown>> };
type ErrorBody = { error: { code: string; message: string } };

async function expectError(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  for (const secret of Object.values(SECRETS)) expect(body.error.message).not.toContain(secret);
  return body.error.message;
}

/** Nothing was planned, recorded as a job, or handed to the worker. */
function expectNothingStarted() {
  expect(h.jobCount()).toBe(0);
  expect(h.wakes()).toBe(0);
}

describe('POST /webhooks/:hostId accepts a signed push', () => {
  it('answers 202 with the planned build, writes the job before answering and wakes the worker', async () => {
    h = harness();
    const delivery = github(shared('github'));
    const response = await post(h, 'gh', delivery);
    expect(response.status).toBe(202);
    const body = (await response.json()) as Answer & { deliveryId: string };
    expect(body.status).toBe('accepted');
    expect(body.deliveryId).toBe(delivery.headers['x-github-delivery']);
    expect(body.builds).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{64}$/),
        project: 'demo',
        context: 'codebuild/demo',
        rule: 'demo',
        repo: 'Codertocat/Hello-World',
        ref: 'refs/heads/master',
        sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      },
    ]);
    const job = h.store.getJob(body.builds![0]!.id as string);
    expect(job?.step).toBe('start');
    expect(job?.deliveryId).toBe(body.deliveryId);
    expect(h.wakes()).toBe(1);
  });

  it.each([
    ['gl', 'GitLab', () => gitlab(shared('gitlab')), 'gitlab-org/hello-world'],
    ['bb', 'Bitbucket Cloud', () => bitbucket(shared('bitbucket')), 'brydzewski/foo'],
    ['gt', 'Gitea', () => gitea(shared('gitea')), 'gogits/hello-world'],
  ])('accepts the real %s (%s) push fixture', async (hostId, _name, delivery, repo) => {
    h = harness();
    const response = await post(h, hostId, delivery());
    expect(response.status).toBe(202);
    const body = (await response.json()) as Answer;
    expect(body.builds?.map((b) => [b.repo, b.project])).toEqual([[repo, 'demo']]);
    expect(h.jobCount()).toBe(1);
  });

  it('answers 200 duplicate for a known delivery id and for the same push under a new id', async () => {
    h = harness();
    const delivery = github(shared('github'));
    expect((await post(h, 'gh', delivery)).status).toBe(202);
    const again = await post(h, 'gh', delivery);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Answer).status).toBe('duplicate');

    const redelivered = await post(h, 'gh', github(shared('github')));
    expect(redelivered.status).toBe(200);
    const body = (await redelivered.json()) as Answer & { duplicates: unknown[] };
    expect(body.status).toBe('duplicate');
    expect(body.duplicates).toHaveLength(1);
    expect(h.jobCount()).toBe(1);
    expect(h.wakes()).toBe(1);
  });
});

describe('deliveries that start nothing', () => {
  it('401 for a signature made with another secret, naming the header and never the secret', async () => {
    h = harness();
    const response = await post(h, 'gh', github(shared('github'), { secret: 'not-the-secret' }));
    const message = await expectError(response, 401, 'webhook.mismatch');
    expect(message).toContain('X-Hub-Signature-256');
    expectNothingStarted();
    expect(h.store.stats().deliveries).toBe(0);
  });

  it('401 for a missing or malformed signature header', async () => {
    h = harness();
    const missing = github(shared('github'));
    delete missing.headers['x-hub-signature-256'];
    await expectError(await post(h, 'gh', missing), 401, 'webhook.missing-header');
    const malformed = github(shared('github'));
    malformed.headers['x-hub-signature-256'] = 'sha1=abc';
    await expectError(await post(h, 'gh', malformed), 401, 'webhook.malformed-header');
    expectNothingStarted();
  });

  it('401 for a host with no webhook secret configured: it fails closed', async () => {
    h = harness();
    const message = await expectError(
      await post(h, 'nosecret', github(shared('github'))),
      401,
      'webhook.no-secret-configured',
    );
    expect(message).toContain('webhook secret');
    expectNothingStarted();
  });

  it('401 for a body cut short after signing; 400 when the cut body itself was signed', async () => {
    h = harness();
    const full = shared('github');
    const cut = full.subarray(0, Math.floor(full.length / 2));
    const delivery = github(full);
    await expectError(await post(h, 'gh', { ...delivery, body: cut }), 401, 'webhook.mismatch');
    const message = await expectError(await post(h, 'gh', github(cut)), 400, 'webhook.bad-payload');
    expect(message).toContain('JSON');
    expectNothingStarted();
  });

  it('400 for a signed body that is JSON but not a push payload', async () => {
    h = harness();
    const body = new TextEncoder().encode('{"ref": 42}');
    await expectError(await post(h, 'gh', github(body)), 400, 'webhook.bad-payload');
    expectNothingStarted();
  });

  it.each([
    ['application/x-www-form-urlencoded'],
    ['text/plain'],
    ['multipart/form-data; boundary=x'],
  ])('415 for content type %s, telling to set application/json', async (type) => {
    h = harness();
    const delivery = github(shared('github'));
    delivery.headers['content-type'] = type;
    const message = await expectError(
      await post(h, 'gh', delivery),
      415,
      'webhook.unsupported-media-type',
    );
    expect(message).toContain('application/json');
    expectNothingStarted();
  });

  it('415 for a delivery with no content type', async () => {
    h = harness();
    const delivery = github(shared('github'));
    const response = await h.app.request('/webhooks/gh', {
      method: 'POST',
      headers: Object.fromEntries(
        Object.entries(delivery.headers).filter(([k]) => k !== 'content-type'),
      ),
      body: new Blob([delivery.body]).stream(),
      duplex: 'half',
    } as RequestInit);
    await expectError(response, 415, 'webhook.unsupported-media-type');
    expectNothingStarted();
  });

  it('200 ignored, with the reason, for events that are not pushes', async () => {
    h = harness();
    for (const event of ['issues', 'pull_request', 'ping']) {
      const response = await post(h, 'gh', github(shared('github'), { event }));
      expect(response.status).toBe(200);
      const body = (await response.json()) as Answer;
      expect(body.status).toBe('ignored');
      expect(body.reason).toMatch(event === 'ping' ? /ping/ : new RegExp(`"${event}"`));
    }
    const mr = await post(
      h,
      'gl',
      gitlab(own('gitlab', 'merge-request.json'), 'Merge Request Hook'),
    );
    expect(((await mr.json()) as Answer).status).toBe('ignored');
    expectNothingStarted();
  });

  it('200 ignored for a deleted branch, recorded so a redelivery is a duplicate', async () => {
    h = harness();
    const delivery = github(own('github', 'branch-delete.json'));
    const response = await post(h, 'gh', delivery);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Answer;
    expect(body).toMatchObject({ status: 'ignored' });
    expect(body.reason).toMatch(/deleted/);
    expect(h.store.stats().deliveriesByOutcome).toEqual({ skipped: 1 });
    const again = await post(h, 'gh', delivery);
    expect(((await again.json()) as Answer).status).toBe('duplicate');
    expectNothingStarted();
  });

  it('200 ignored for [skip ci] and for a branch no rule builds', async () => {
    h = harness();
    const skip = edited(shared('github'), (p) => {
      (p.head_commit as { message: string }).message = 'Docs only [skip ci]';
    });
    const skipped = (await (await post(h, 'gh', github(skip))).json()) as Answer;
    expect(skipped.status).toBe('ignored');
    expect(skipped.reason).toContain('[skip ci]');
    const feature = edited(shared('github'), (p) => {
      p.ref = 'refs/heads/feature/x';
    });
    const unmatched = (await (await post(h, 'gh', github(feature))).json()) as Answer;
    expect(unmatched.status).toBe('ignored');
    expect(unmatched.reason).toContain('rule "demo" wants branches master, main');
    expectNothingStarted();
  });

  it('a valid ref named like a shell command is only a name: no rule builds it here', async () => {
    h = harness();
    const ref = ['refs/heads/$(touch$', '{IFS}/tmp/pwned)'].join('');
    const hostile = edited(shared('github'), (p) => {
      p.ref = ref;
    });
    const response = await post(h, 'gh', github(hostile));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Answer;
    expect(body.reason).toContain(ref);
    expectNothingStarted();
  });

  it.each([
    ['a newline', 'refs/heads/main\nrefs/heads/evil'],
    ['a space', 'refs/heads/ma in'],
    ['..', 'refs/heads/../../etc/passwd'],
    ['a control character', 'refs/heads/ma\u0007in'],
    ['.lock', 'refs/heads/main.lock'],
    ['a backslash', 'refs/heads/a\\b'],
  ])('400 for a signed push whose ref holds %s, which no git host sends', async (_what, ref) => {
    h = harness();
    const hostile = edited(shared('github'), (p) => {
      p.ref = ref;
    });
    await expectError(await post(h, 'gh', github(hostile)), 400, 'webhook.bad-payload');
    expectNothingStarted();
    expect(h.store.stats().deliveries).toBe(0);
  });

  it.each([['nope'], ['__proto__'], ['constructor']])(
    '404 for the unknown host id %s',
    async (id) => {
      h = harness();
      const message = await expectError(
        await post(h, id, github(shared('github'))),
        404,
        'webhook.unknown-host',
      );
      expect(message).toContain('/webhooks/<id>');
      expectNothingStarted();
    },
  );

  it('503 naming the variable when the webhook secret cannot be read', async () => {
    h = harness();
    const message = await expectError(
      await post(h, 'missingenv', github(shared('github'))),
      503,
      'secret.env-missing',
    );
    expect(message).toContain('NOT_SET_ANYWHERE');
    expectNothingStarted();
  });

  it('405 for a GET of a webhook URL', async () => {
    h = harness();
    await expectError(await h.app.request('/webhooks/gh'), 405, 'http.method-not-allowed');
  });
});

describe('signatures cover the exact bytes', () => {
  it('accepts the same JSON re-spaced only when signed as sent', async () => {
    h = harness();
    const pretty = edited(shared('github'), () => {});
    const delivery = github(shared('github'));
    delivery.headers['x-hub-signature-256'] = `sha256=${hmac(SECRETS.GH_SECRET, shared('github'))}`;
    await expectError(await post(h, 'gh', { ...delivery, body: pretty }), 401, 'webhook.mismatch');
    expect((await post(h, 'gh', github(pretty))).status).toBe(202);
  });
});
