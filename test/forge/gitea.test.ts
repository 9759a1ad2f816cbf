import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/errors.js';
import { forgejoDriver, giteaDriver } from '../../src/forge/gitea/index.js';
import type { ForgeDriver, PushEvent, WebhookRequest } from '../../src/forge/types.js';
import { fixtureBytes, headers, ownFixtures, sharedFixtures } from '../support/fixtures.js';

const SECRET = 'gitea-test-secret-51c0';
const OLD_SECRET = 'gitea-old-secret-e2d4';
const DELIVERY = 'b3b1f6a2-6f0e-4c41-9a7e-0d2f5c8e1a90';

const hmac = (secret: string, body: Uint8Array) =>
  createHmac('sha256', secret).update(body).digest('hex');

const giteaFixture = (name: string) => fixtureBytes(join(ownFixtures, 'webhooks', 'gitea', name));
const forgejoFixture = (name: string) =>
  fixtureBytes(join(ownFixtures, 'webhooks', 'forgejo', name));
const sharedPush = () => fixtureBytes(join(sharedFixtures, 'gitea', 'push.json'));
const encode = (text: string) => new TextEncoder().encode(text);

/** What Gitea sends: X-Gitea-* (plus X-Gogs-* and X-GitHub-*, which the driver ignores). */
function giteaDelivery(body: Uint8Array, event = 'push', secret = SECRET): WebhookRequest {
  const signature = hmac(secret, body);
  return {
    headers: headers({
      'X-Gitea-Event': event,
      'X-Gitea-Delivery': DELIVERY,
      'X-Gitea-Signature': signature,
      'X-Gogs-Event': event,
      'X-Hub-Signature-256': `sha256=${signature}`,
    }),
    body,
  };
}

/** What Forgejo sends: its own X-Forgejo-* and the same values again as X-Gitea-*. */
function forgejoDelivery(body: Uint8Array, event = 'push', secret = SECRET): WebhookRequest {
  const signature = hmac(secret, body);
  return {
    headers: headers({
      'X-Forgejo-Event': event,
      'X-Forgejo-Delivery': DELIVERY,
      'X-Forgejo-Signature': signature,
      'X-Gitea-Event': event,
      'X-Gitea-Delivery': DELIVERY,
      'X-Gitea-Signature': signature,
    }),
    body,
  };
}

function verifiedParse(driver: ForgeDriver, request: WebhookRequest) {
  driver.verify(request, [SECRET]);
  return driver.parse(request);
}

function onlyEvent(driver: ForgeDriver, request: WebhookRequest): PushEvent {
  const result = verifiedParse(driver, request);
  if (result.outcome !== 'push') throw new Error(`expected a push, got ${JSON.stringify(result)}`);
  expect(result.events).toHaveLength(1);
  return result.events[0]!;
}

function errorOf<E extends Error>(type: new (...args: never[]) => E, action: () => unknown): E {
  try {
    action();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected ${type.name}`);
}

const golden = (host: 'gitea' | 'forgejo', name: string, value: unknown) =>
  expect(JSON.stringify(value, null, 2)).toMatchFileSnapshot(`__golden__/${host}/${name}.json`);

describe('Gitea delivery → events (golden)', () => {
  it('a branch push builds the pushed commit', async () => {
    const request = giteaDelivery(sharedPush());
    expect(onlyEvent(giteaDriver, request)).toMatchObject({
      host: 'gitea',
      sha: '4522cbcefc20728a5b72b3a86af35e608622c514',
      headCommitMessage: 'Updated readme\n',
      changedPaths: { paths: ['README.md'], truncated: false },
    });
    await golden('gitea', 'push', verifiedParse(giteaDriver, request));
  });

  it('an annotated tag builds the commit it points to', async () => {
    const request = giteaDelivery(giteaFixture('tag-push.json'));
    const event = onlyEvent(giteaDriver, request);
    expect(event).toMatchObject({ refKind: 'tag', refName: 'v2.0.0', changedPaths: null });
    expect(event.sha).toBe('d41c2b0a9e8f7d6c5b4a3f2e1d0c9b8a7f6e5d4c');
    await golden('gitea', 'tag-push', verifiedParse(giteaDriver, request));
  });

  it('a created branch lists its paths but marks them partial', async () => {
    const request = giteaDelivery(giteaFixture('branch-create.json'));
    expect(onlyEvent(giteaDriver, request)).toMatchObject({
      created: true,
      before: null,
      changedPaths: { truncated: true },
    });
    await golden('gitea', 'branch-create', verifiedParse(giteaDriver, request));
  });

  it('a deleted ref has no commit to build', async () => {
    const request = giteaDelivery(giteaFixture('branch-delete.json'));
    expect(onlyEvent(giteaDriver, request)).toMatchObject({ deleted: true, sha: null });
    await golden('gitea', 'branch-delete', verifiedParse(giteaDriver, request));
  });

  it('a test delivery is ignored', async () => {
    const result = verifiedParse(giteaDriver, giteaDelivery(giteaFixture('test-delivery.json')));
    expect(result).toMatchObject({ outcome: 'ignored', eventName: 'push' });
    await golden('gitea', 'test-delivery', result);
  });
});

describe('Forgejo delivery → events (golden)', () => {
  it('a branch push, read from the X-Forgejo-* headers', async () => {
    const request = forgejoDelivery(forgejoFixture('push.json'));
    expect(onlyEvent(forgejoDriver, request)).toMatchObject({
      host: 'forgejo',
      deliveryId: DELIVERY,
      changedPaths: { paths: ['test/chunked.c', 'src/body.c', 'src/body.h'], truncated: false },
    });
    await golden('forgejo', 'push', verifiedParse(forgejoDriver, request));
  });

  it('a lightweight tag builds the tagged commit', async () => {
    const request = forgejoDelivery(forgejoFixture('tag-push.json'));
    expect(onlyEvent(forgejoDriver, request).sha).toBe('51a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4');
    await golden('forgejo', 'tag-push', verifiedParse(forgejoDriver, request));
  });

  it('a created branch', async () => {
    const request = forgejoDelivery(forgejoFixture('branch-create.json'));
    expect(onlyEvent(forgejoDriver, request)).toMatchObject({ created: true, before: null });
    await golden('forgejo', 'branch-create', verifiedParse(forgejoDriver, request));
  });

  it('a deleted branch in a SHA-256 repository (64 zeros)', async () => {
    const request = forgejoDelivery(forgejoFixture('branch-delete-sha256.json'));
    expect(onlyEvent(forgejoDriver, request)).toMatchObject({ deleted: true, sha: null });
    await golden('forgejo', 'branch-delete-sha256', verifiedParse(forgejoDriver, request));
  });

  it('a non-push event is ignored, naming it', async () => {
    const result = verifiedParse(
      forgejoDriver,
      forgejoDelivery(encode('{"action":"opened"}'), 'issues'),
    );
    expect(result).toMatchObject({ outcome: 'ignored', eventName: 'issues' });
    await golden('forgejo', 'issues', result);
  });
});

describe('Gitea / Forgejo delivery → events (edges)', () => {
  it('marks the paths truncated when total_commits says the list was cut', () => {
    const payload = JSON.parse(new TextDecoder().decode(sharedPush()));
    payload.total_commits = 7;
    const event = onlyEvent(giteaDriver, giteaDelivery(encode(JSON.stringify(payload))));
    expect(event.changedPaths).toEqual({ paths: ['README.md'], truncated: true });
  });

  it('Forgejo prefers its own headers over the Gitea ones', () => {
    const request = forgejoDelivery(forgejoFixture('push.json'));
    const withOtherGiteaId = {
      ...request,
      headers: { ...request.headers, 'x-gitea-delivery': 'gitea-copy' },
    };
    expect(onlyEvent(forgejoDriver, withOtherGiteaId).deliveryId).toBe(DELIVERY);
  });

  it('Forgejo accepts a release that sends only X-Gitea-* headers', () => {
    const event = onlyEvent(forgejoDriver, giteaDelivery(forgejoFixture('push.json')));
    expect(event).toMatchObject({ host: 'forgejo', deliveryId: DELIVERY });
  });

  it('names the missing event header', () => {
    const request = giteaDelivery(sharedPush());
    const { 'x-gitea-event': _, ...rest } = request.headers;
    const error = errorOf(WebhookPayloadError, () =>
      giteaDriver.parse({ ...request, headers: rest }),
    );
    expect(error.message).toContain('no X-Gitea-Event header');
  });

  it('names the field of a malformed push', () => {
    const text = new TextDecoder().decode(sharedPush()).replace('"after"', '"afterwards"');
    const error = errorOf(WebhookPayloadError, () =>
      verifiedParse(giteaDriver, giteaDelivery(encode(text))),
    );
    expect(error.message).toContain('after:');
  });

  it('tells to switch a form-encoded webhook to JSON', () => {
    const request = giteaDelivery(encode('payload=%7B%7D'));
    const error = errorOf(WebhookPayloadError, () => verifiedParse(giteaDriver, request));
    expect(error.message).toContain('set its content type to application/json');
  });
});

describe.each([
  { driver: giteaDriver, deliver: giteaDelivery, header: 'X-Gitea-Signature' },
  { driver: forgejoDriver, deliver: forgejoDelivery, header: 'X-Forgejo-Signature' },
])('$driver.displayName verification', ({ driver, deliver, header }) => {
  const body = sharedPush();
  const verifyError = (request: WebhookRequest, secrets: string[]) =>
    errorOf(WebhookVerificationError, () => driver.verify(request, secrets));

  it('accepts the exact bytes signed with the secret', () => {
    expect(() => driver.verify(deliver(body), [SECRET])).not.toThrow();
  });

  it('rejects a signature made with another secret', () => {
    const error = verifyError(deliver(body, 'push', 'someone-else'), [SECRET]);
    expect(error.reason).toBe('mismatch');
    expect(error.message).toContain(`${header} signature does not match`);
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects a delivery without a signature header, naming it', () => {
    const request = deliver(body);
    const unsigned = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !name.endsWith('-signature')),
    );
    const error = verifyError({ ...request, headers: unsigned }, [SECRET]);
    expect(error.reason).toBe('missing-header');
    expect(error.message).toContain(`no ${header} header`);
  });

  it('fails closed when no secret is configured', () => {
    for (const secrets of [[], ['']]) {
      expect(verifyError(deliver(body), secrets).reason).toBe('no-secret-configured');
    }
  });

  it('accepts the old secret during rotation, and the new one', () => {
    expect(() =>
      driver.verify(deliver(body, 'push', OLD_SECRET), [SECRET, OLD_SECRET]),
    ).not.toThrow();
    expect(() => driver.verify(deliver(body), [SECRET, OLD_SECRET])).not.toThrow();
  });

  it('rejects a body altered by one byte', () => {
    const altered = new Uint8Array(body);
    altered[20] = altered[20]! ^ 0x01;
    const error = verifyError({ ...deliver(body), body: altered }, [SECRET]);
    expect(error.reason).toBe('mismatch');
  });

  it('rejects a GitHub-style prefixed signature as malformed', () => {
    const request = deliver(body);
    const prefixed = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [
        name,
        name.endsWith('-signature') ? `sha256=${value}` : value,
      ]),
    );
    expect(verifyError({ ...request, headers: prefixed }, [SECRET]).reason).toBe(
      'malformed-header',
    );
  });
});

describe('Gitea / Forgejo clone auth', () => {
  it('authenticates git as the token owner', () => {
    expect(forgejoDriver.cloneAuth('kim')).toEqual({ scheme: 'basic', username: 'kim' });
  });

  it('asks for the account when none is configured, naming the key', () => {
    expect(() => giteaDriver.cloneAuth()).toThrow(/set `account` on this Gitea connection/);
  });
});
