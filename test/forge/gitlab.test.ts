import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/errors.js';
import { gitlabDriver } from '../../src/forge/gitlab/index.js';
import type { WebhookRequest } from '../../src/forge/types.js';
import { fixtureBytes, headers, ownFixtures, sharedFixtures } from '../support/fixtures.js';

const SECRET = 'gl-webhook-secret-1';

function delivery(
  body: Uint8Array,
  event: string,
  extra: Record<string, string> = {},
): WebhookRequest {
  return { body, headers: headers({ 'X-Gitlab-Event': event, ...extra }) };
}

const fixture = (name: string) => fixtureBytes(join(ownFixtures, 'webhooks', 'gitlab', name));
const sharedPush = () => fixtureBytes(join(sharedFixtures, 'gitlab', 'push.json'));

function verificationError(request: WebhookRequest, secrets: string[]): WebhookVerificationError {
  try {
    gitlabDriver.verify(request, secrets);
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw error;
  }
  throw new Error('expected a WebhookVerificationError');
}

describe('gitlab verify', () => {
  const signed = (token: string) =>
    delivery(sharedPush(), 'Push Hook', { 'X-Gitlab-Token': token });

  it('accepts the configured token', () => {
    expect(() => gitlabDriver.verify(signed(SECRET), [SECRET])).not.toThrow();
  });

  it('accepts the second secret during a rotation', () => {
    expect(() =>
      gitlabDriver.verify(signed('gl-new-secret'), [SECRET, 'gl-new-secret']),
    ).not.toThrow();
  });

  it('rejects a wrong token, naming the header and not the secret', () => {
    const error = verificationError(signed('gl-webhook-secret-2'), [SECRET]);
    expect(error.reason).toBe('mismatch');
    expect(error.message).toBe(
      'the GitLab X-Gitlab-Token header does not match any configured secret; check the webhook secret on both sides',
    );
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects a delivery without X-Gitlab-Token', () => {
    const error = verificationError(delivery(sharedPush(), 'Push Hook'), [SECRET]);
    expect(error.reason).toBe('missing-header');
    expect(error.message).toContain('has no X-Gitlab-Token header');
  });

  it('fails closed when no secret is configured', () => {
    const error = verificationError(signed(''), ['']);
    expect(error.reason).toBe('no-secret-configured');
    expect(error.message).toContain('no webhook secret is configured for this GitLab connection');
    expect(verificationError(signed(SECRET), []).reason).toBe('no-secret-configured');
  });

  it('rejects a token that differs in one byte', () => {
    const error = verificationError(signed(`${SECRET.slice(0, -1)}2`), [SECRET]);
    expect(error.reason).toBe('mismatch');
  });
});

describe('gitlab parse (golden)', () => {
  it('push: the shared real payload', async () => {
    const result = gitlabDriver.parse(
      delivery(sharedPush(), 'Push Hook', {
        'Idempotency-Key': 'f1d0c3a2-6b1e-4a52-9a57-2f0e7c6d8b11',
      }),
    );
    await expect(JSON.stringify(result, null, 2)).toMatchFileSnapshot(
      '__golden__/gitlab/push.json',
    );
  });

  it('tag push of an annotated tag builds the commit, not the tag object', async () => {
    const result = gitlabDriver.parse(
      delivery(fixture('tag-push-annotated.json'), 'Tag Push Hook', {
        'X-Gitlab-Event-UUID': '0b7c5d1e-3f2a-4c8b-9e6d-a1b2c3d4e5f6',
      }),
    );
    await expect(JSON.stringify(result, null, 2)).toMatchFileSnapshot(
      '__golden__/gitlab/tag-push-annotated.json',
    );
  });

  it('branch create', async () => {
    const result = gitlabDriver.parse(delivery(fixture('branch-create.json'), 'Push Hook'));
    await expect(JSON.stringify(result, null, 2)).toMatchFileSnapshot(
      '__golden__/gitlab/branch-create.json',
    );
  });

  it('branch delete', async () => {
    const result = gitlabDriver.parse(delivery(fixture('branch-delete.json'), 'Push Hook'));
    await expect(JSON.stringify(result, null, 2)).toMatchFileSnapshot(
      '__golden__/gitlab/branch-delete.json',
    );
  });

  it('a project in nested subgroups', async () => {
    const result = gitlabDriver.parse(delivery(fixture('subgroup-push.json'), 'Push Hook'));
    await expect(JSON.stringify(result, null, 2)).toMatchFileSnapshot(
      '__golden__/gitlab/subgroup-push.json',
    );
  });

  it('a push of more than 20 commits marks the paths truncated', async () => {
    const result = gitlabDriver.parse(delivery(fixture('push-truncated.json'), 'Push Hook'));
    await expect(JSON.stringify(result, null, 2)).toMatchFileSnapshot(
      '__golden__/gitlab/push-truncated.json',
    );
  });

  it('a merge request event is ignored', async () => {
    const result = gitlabDriver.parse(
      delivery(fixture('merge-request.json'), 'Merge Request Hook'),
    );
    await expect(JSON.stringify(result, null, 2)).toMatchFileSnapshot(
      '__golden__/gitlab/merge-request.json',
    );
  });
});

describe('gitlab parse', () => {
  it('prefers Idempotency-Key, then X-Gitlab-Event-UUID, then a body digest', () => {
    const idOf = (extra: Record<string, string>) => {
      const result = gitlabDriver.parse(delivery(sharedPush(), 'Push Hook', extra));
      if (result.outcome !== 'push') throw new Error('expected a push');
      return result.events[0]!.deliveryId;
    };
    expect(idOf({ 'Idempotency-Key': 'idem-1', 'X-Gitlab-Event-UUID': 'uuid-1' })).toBe('idem-1');
    expect(idOf({ 'X-Gitlab-Event-UUID': 'uuid-1' })).toBe('uuid-1');
    expect(idOf({})).toMatch(/^sha256:[0-9a-f]{32}$/);
  });

  it('reads a deletion in a SHA-256 repository (64 zeros)', () => {
    const body = JSON.parse(new TextDecoder().decode(fixture('branch-delete.json')));
    body.before = 'ab'.repeat(32);
    body.after = '0'.repeat(64);
    const result = gitlabDriver.parse(
      delivery(new TextEncoder().encode(JSON.stringify(body)), 'Push Hook'),
    );
    expect(result).toMatchObject({
      outcome: 'push',
      events: [{ deleted: true, sha: null, before: 'ab'.repeat(32), changedPaths: null }],
    });
  });

  it('names the missing field of a malformed push body', () => {
    const body = JSON.parse(new TextDecoder().decode(sharedPush()));
    delete body.project.git_http_url;
    const parse = () =>
      gitlabDriver.parse(delivery(new TextEncoder().encode(JSON.stringify(body)), 'Push Hook'));
    expect(parse).toThrow(WebhookPayloadError);
    expect(parse).toThrow(/project\.git_http_url/);
  });

  it('refuses a body that is not JSON', () => {
    const parse = () =>
      gitlabDriver.parse(delivery(new TextEncoder().encode('{"ref":'), 'Push Hook'));
    expect(parse).toThrow('the GitLab delivery body is not valid UTF-8 JSON');
  });

  it('refuses a push whose checkout_sha is null although the ref was not deleted', () => {
    const body = JSON.parse(new TextDecoder().decode(sharedPush()));
    body.checkout_sha = null;
    const parse = () =>
      gitlabDriver.parse(delivery(new TextEncoder().encode(JSON.stringify(body)), 'Push Hook'));
    expect(parse).toThrow(/checkout_sha is null although the ref was not deleted/);
  });

  it('refuses a delivery without X-Gitlab-Event', () => {
    const parse = () => gitlabDriver.parse({ body: sharedPush(), headers: {} });
    expect(parse).toThrow(/no X-Gitlab-Event header/);
  });
});

describe('gitlab clone auth', () => {
  it('uses Basic with the oauth2 username', () => {
    expect(gitlabDriver.cloneAuth()).toEqual({ scheme: 'basic', username: 'oauth2' });
  });
});
