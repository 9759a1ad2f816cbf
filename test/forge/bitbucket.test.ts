import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/errors.js';
import { bitbucketDriver } from '../../src/forge/bitbucket/index.js';
import type { WebhookRequest } from '../../src/forge/types.js';
import { fixtureBytes, headers, ownFixtures, sharedFixtures } from '../support/fixtures.js';

const SECRET = 'bb-webhook-secret-1';
const REQUEST_UUID = '3c6f1a2e-8d4b-4e7a-9f05-b1c2d3e4f5a6';

const sign = (secret: string, body: Uint8Array) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function delivery(
  body: Uint8Array,
  eventKey: string,
  extra: Record<string, string> = {},
): WebhookRequest {
  return {
    body,
    headers: headers({ 'X-Event-Key': eventKey, 'X-Request-UUID': REQUEST_UUID, ...extra }),
  };
}

const fixture = (name: string) => fixtureBytes(join(ownFixtures, 'webhooks', 'bitbucket', name));
const sharedPush = () => fixtureBytes(join(sharedFixtures, 'bitbucket', 'push.json'));
const json = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

function verificationError(request: WebhookRequest, secrets: string[]): WebhookVerificationError {
  try {
    bitbucketDriver.verify(request, secrets);
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw error;
  }
  throw new Error('expected a WebhookVerificationError');
}

describe('bitbucket cloud verify', () => {
  const body = sharedPush();
  const signed = (signature: string, bytes = body) =>
    delivery(bytes, 'repo:push', { 'X-Hub-Signature': signature });

  it('accepts the HMAC of the exact bytes', () => {
    expect(() => bitbucketDriver.verify(signed(sign(SECRET, body)), [SECRET])).not.toThrow();
  });

  it('accepts the second secret during a rotation', () => {
    const request = signed(sign('bb-new-secret', body));
    expect(() => bitbucketDriver.verify(request, [SECRET, 'bb-new-secret'])).not.toThrow();
  });

  it('rejects a signature made with another secret, naming the header and not the secret', () => {
    const error = verificationError(signed(sign('bb-other', body)), [SECRET]);
    expect(error.reason).toBe('mismatch');
    expect(error.message).toBe(
      'the Bitbucket Cloud X-Hub-Signature signature does not match the body for any configured secret; check the webhook secret on both sides',
    );
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects a body altered by one byte', () => {
    const altered = new Uint8Array(body);
    const at = altered.length - 2;
    altered[at] = altered[at]! ^ 0x01;
    const error = verificationError(signed(sign(SECRET, body), altered), [SECRET]);
    expect(error.reason).toBe('mismatch');
  });

  it('rejects a delivery without X-Hub-Signature', () => {
    const error = verificationError(delivery(body, 'repo:push'), [SECRET]);
    expect(error.reason).toBe('missing-header');
    expect(error.message).toContain('the Bitbucket Cloud delivery has no X-Hub-Signature header');
  });

  it('rejects a signature that is not sha256=<hex>', () => {
    const sha1 = `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`;
    const error = verificationError(signed(sha1), [SECRET]);
    expect(error.reason).toBe('malformed-header');
    expect(error.message).toContain('X-Hub-Signature header is not of the form sha256=');
  });

  it('fails closed when no secret is configured', () => {
    const error = verificationError(signed(sign('', body)), ['']);
    expect(error.reason).toBe('no-secret-configured');
    expect(error.message).toContain(
      'no webhook secret is configured for this Bitbucket Cloud connection',
    );
  });
});

describe('bitbucket cloud parse (golden)', () => {
  const golden = async (name: string, request: WebhookRequest) =>
    expect(JSON.stringify(bitbucketDriver.parse(request), null, 2)).toMatchFileSnapshot(
      `__golden__/bitbucket/${name}.json`,
    );

  it('push: the shared real payload', async () => {
    await golden('push', delivery(sharedPush(), 'repo:push'));
  });

  it('annotated tag push builds the tagged commit', async () => {
    await golden('tag-push', delivery(fixture('tag-push.json'), 'repo:push'));
  });

  it('branch create', async () => {
    await golden('branch-create', delivery(fixture('branch-create.json'), 'repo:push'));
  });

  it('branch delete', async () => {
    await golden('branch-delete', delivery(fixture('branch-delete.json'), 'repo:push'));
  });

  it('one push of a branch and a tag gives two events with their own delivery ids', async () => {
    await golden('multi-change', delivery(fixture('multi-change.json'), 'repo:push'));
  });

  it('a pull request event is ignored', async () => {
    await golden(
      'pullrequest-created',
      delivery(fixture('pullrequest-created.json'), 'pullrequest:created'),
    );
  });
});

describe('bitbucket cloud parse', () => {
  it('takes the clone host from the repository page', () => {
    const body = decode(sharedPush());
    body.repository.links.html.href = 'https://bitbucket.example.org/brydzewski/foo';
    const result = bitbucketDriver.parse(delivery(json(body), 'repo:push'));
    expect(result).toMatchObject({
      events: [{ repo: { cloneUrl: 'https://bitbucket.example.org/brydzewski/foo.git' } }],
    });
  });

  it('falls back to a body digest without X-Request-UUID', () => {
    const result = bitbucketDriver.parse({
      body: sharedPush(),
      headers: headers({ 'X-Event-Key': 'repo:push' }),
    });
    expect(result).toMatchObject({ events: [{ deliveryId: expect.stringMatching(/^sha256:/) }] });
  });

  it('ignores a push that changed no branch or tag', () => {
    const body = decode(sharedPush());
    body.push.changes = [];
    expect(bitbucketDriver.parse(delivery(json(body), 'repo:push'))).toEqual({
      outcome: 'ignored',
      eventName: 'repo:push',
      reason: 'the push changed no branch or tag',
    });
  });

  it('names the bad field of a malformed body', () => {
    const body = decode(sharedPush());
    body.push.changes[0].new.target.hash = 'not-a-sha';
    const parse = () => bitbucketDriver.parse(delivery(json(body), 'repo:push'));
    expect(parse).toThrow(WebhookPayloadError);
    expect(parse).toThrow(/push\.changes\.0\.new\.target\.hash: expected a 40 or 64 digit hex sha/);
  });

  it('names a missing repository field', () => {
    const body = decode(sharedPush());
    delete body.repository.full_name;
    expect(() => bitbucketDriver.parse(delivery(json(body), 'repo:push'))).toThrow(
      /repository\.full_name/,
    );
  });
});

describe('bitbucket cloud clone auth', () => {
  it('uses Basic with the x-token-auth username', () => {
    expect(bitbucketDriver.cloneAuth()).toEqual({ scheme: 'basic', username: 'x-token-auth' });
  });
});
