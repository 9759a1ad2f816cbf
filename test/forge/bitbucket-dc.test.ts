import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/errors.js';
import { bitbucketDcDriver } from '../../src/forge/bitbucket-dc/index.js';
import type { WebhookRequest } from '../../src/forge/types.js';
import { fixtureBytes, headers, ownFixtures } from '../support/fixtures.js';

const SECRET = 'dc-webhook-secret-1';
const REQUEST_ID = '9d1e3c5a-7b2f-4e6d-8a0c-1f3e5d7b9a2c';

const sign = (secret: string, body: Uint8Array) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function delivery(
  body: Uint8Array,
  eventKey: string,
  extra: Record<string, string> = {},
): WebhookRequest {
  return {
    body,
    headers: headers({ 'X-Event-Key': eventKey, 'X-Request-Id': REQUEST_ID, ...extra }),
  };
}

const fixture = (name: string) => fixtureBytes(join(ownFixtures, 'webhooks', 'bitbucket-dc', name));
const json = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

function verificationError(request: WebhookRequest, secrets: string[]): WebhookVerificationError {
  try {
    bitbucketDcDriver.verify(request, secrets);
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw error;
  }
  throw new Error('expected a WebhookVerificationError');
}

describe('bitbucket data center verify', () => {
  const body = fixture('push.json');
  const signed = (signature: string, bytes = body) =>
    delivery(bytes, 'repo:refs_changed', { 'X-Hub-Signature': signature });

  it('accepts the HMAC of the exact bytes', () => {
    expect(() => bitbucketDcDriver.verify(signed(sign(SECRET, body)), [SECRET])).not.toThrow();
  });

  it('accepts the second secret during a rotation', () => {
    const request = signed(sign('dc-new-secret', body));
    expect(() => bitbucketDcDriver.verify(request, [SECRET, 'dc-new-secret'])).not.toThrow();
  });

  it('rejects a signature made with another secret, naming the header and not the secret', () => {
    const error = verificationError(signed(sign('dc-other', body)), [SECRET]);
    expect(error.reason).toBe('mismatch');
    expect(error.message).toBe(
      'the Bitbucket Data Center X-Hub-Signature signature does not match the body for any configured secret; check the webhook secret on both sides',
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
    const error = verificationError(delivery(body, 'repo:refs_changed'), [SECRET]);
    expect(error.reason).toBe('missing-header');
    expect(error.message).toContain(
      'the Bitbucket Data Center delivery has no X-Hub-Signature header',
    );
  });

  it('fails closed when no secret is configured', () => {
    const error = verificationError(signed(sign('', body)), ['', '']);
    expect(error.reason).toBe('no-secret-configured');
    expect(error.message).toContain(
      'no webhook secret is configured for this Bitbucket Data Center connection',
    );
  });
});

describe('bitbucket data center parse (golden)', () => {
  const golden = async (name: string, request: WebhookRequest) =>
    expect(JSON.stringify(bitbucketDcDriver.parse(request), null, 2)).toMatchFileSnapshot(
      `__golden__/bitbucket-dc/${name}.json`,
    );

  it('push', async () => {
    await golden('push', delivery(fixture('push.json'), 'repo:refs_changed'));
  });

  it('tag push', async () => {
    await golden('tag-push', delivery(fixture('tag-push.json'), 'repo:refs_changed'));
  });

  it('branch create', async () => {
    await golden('branch-create', delivery(fixture('branch-create.json'), 'repo:refs_changed'));
  });

  it('branch delete', async () => {
    await golden('branch-delete', delivery(fixture('branch-delete.json'), 'repo:refs_changed'));
  });

  it('one push of a branch and a tag gives two events with their own delivery ids', async () => {
    await golden('multi-change', delivery(fixture('multi-change.json'), 'repo:refs_changed'));
  });

  it('the test connection ping is ignored', async () => {
    await golden(
      'diagnostics-ping',
      delivery(fixture('diagnostics-ping.json'), 'diagnostics:ping'),
    );
  });

  it('a pull request event is ignored', async () => {
    await golden('pr-opened', delivery(fixture('pr-opened.json'), 'pr:opened'));
  });
});

describe('bitbucket data center parse', () => {
  it('reads the older flat refId and drops a user from the clone link', () => {
    const body = decode(fixture('push.json'));
    delete body.changes[0].ref;
    body.repository.links.clone[1].href =
      'https://ada@bitbucket.example.com/scm/pay/payments-api.git';
    const result = bitbucketDcDriver.parse(delivery(json(body), 'repo:refs_changed'));
    expect(result).toMatchObject({
      events: [
        {
          ref: 'refs/heads/main',
          repo: { cloneUrl: 'https://bitbucket.example.com/scm/pay/payments-api.git' },
        },
      ],
    });
  });

  it('takes the head commit message from toCommit when it is the pushed commit', () => {
    const body = decode(fixture('push.json'));
    body.toCommit = { id: body.changes[0].toHash, message: 'Refunds: round to cents' };
    const result = bitbucketDcDriver.parse(delivery(json(body), 'repo:refs_changed'));
    expect(result).toMatchObject({ events: [{ headCommitMessage: 'Refunds: round to cents' }] });
  });

  it('falls back to a body digest without X-Request-Id', () => {
    const result = bitbucketDcDriver.parse({
      body: fixture('push.json'),
      headers: headers({ 'X-Event-Key': 'repo:refs_changed' }),
    });
    expect(result).toMatchObject({ events: [{ deliveryId: expect.stringMatching(/^sha256:/) }] });
  });

  it('names a change without any ref', () => {
    const body = decode(fixture('push.json'));
    delete body.changes[0].ref;
    delete body.changes[0].refId;
    const parse = () => bitbucketDcDriver.parse(delivery(json(body), 'repo:refs_changed'));
    expect(parse).toThrow(WebhookPayloadError);
    expect(parse).toThrow(/changes\.0\.ref\.id: expected ref\.id or refId/);
  });

  it('names an unknown change type', () => {
    const body = decode(fixture('push.json'));
    body.changes[0].type = 'MOVE';
    expect(() => bitbucketDcDriver.parse(delivery(json(body), 'repo:refs_changed'))).toThrow(
      /changes\.0\.type/,
    );
  });

  it('names a repository without an http clone link', () => {
    const body = decode(fixture('push.json'));
    body.repository.links.clone = body.repository.links.clone.filter(
      (link: { name: string }) => link.name !== 'http',
    );
    expect(() => bitbucketDcDriver.parse(delivery(json(body), 'repo:refs_changed'))).toThrow(
      'repository.links.clone: no link named "http"',
    );
  });
});

describe('bitbucket data center clone auth', () => {
  it('uses Bearer', () => {
    expect(bitbucketDcDriver.cloneAuth()).toEqual({ scheme: 'bearer' });
  });
});
