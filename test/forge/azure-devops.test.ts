import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/errors.js';
import { azureDevOpsDriver } from '../../src/forge/azure-devops/index.js';
import type { PushEvent, WebhookRequest } from '../../src/forge/types.js';
import { fixtureBytes, headers, ownFixtures } from '../support/fixtures.js';

/** The subscription's Basic credentials, as configured on both sides: `username:password`. */
const SECRET = 'codebuild-hook:p4ss-7d21e9';
const OLD_SECRET = 'codebuild-hook:old-p4ss-0b3c';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const fixture = (name: string) => fixtureBytes(join(ownFixtures, 'webhooks', 'azure-devops', name));
const encode = (text: string) => new TextEncoder().encode(text);

function delivery(body: Uint8Array, credentials = SECRET): WebhookRequest {
  return {
    headers: headers({
      Authorization: basic(credentials),
      'Content-Type': 'application/json; charset=utf-8',
    }),
    body,
  };
}

function verifiedParse(request: WebhookRequest) {
  azureDevOpsDriver.verify(request, [SECRET]);
  return azureDevOpsDriver.parse(request);
}

function events(request: WebhookRequest): PushEvent[] {
  const result = verifiedParse(request);
  if (result.outcome !== 'push') throw new Error(`expected a push, got ${JSON.stringify(result)}`);
  return result.events;
}

/** push.json with its remote URL replaced. */
function withRemoteUrl(remoteUrl: string): WebhookRequest {
  const text = new TextDecoder()
    .decode(fixture('push.json'))
    .replace('https://dev.azure.com/contoso/Web%20Shop/_git/storefront', remoteUrl);
  return delivery(encode(text));
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

const golden = (name: string, value: unknown) =>
  expect(JSON.stringify(value, null, 2)).toMatchFileSnapshot(
    `__golden__/azure-devops/${name}.json`,
  );

describe('Azure DevOps event → events (golden)', () => {
  it('a branch push: org/project/repo, the repository id, the event id', async () => {
    const request = delivery(fixture('push.json'));
    const [event] = events(request);
    expect(event).toMatchObject({
      deliveryId: 'a1f0c2e4-6b8d-4f1a-9c3e-5d7f9b1d3f5a',
      repo: {
        fullName: 'contoso/Web Shop/storefront',
        id: '3c5a8f1e-2b4d-4e6f-9a1b-7c2d3e4f5a6b',
        cloneUrl: 'https://dev.azure.com/contoso/Web%20Shop/_git/storefront',
      },
      sha: '9b2f4c6e8a0d1f3b5c7e9a1d3f5b7c9e1a3c5e7f',
      headCommitMessage: 'Show prices with tax in the cart',
    });
    await golden('push', verifiedParse(request));
  });

  it('a tag push', async () => {
    const request = delivery(fixture('tag-push.json'));
    expect(events(request)[0]).toMatchObject({ refKind: 'tag', refName: 'v3.1.0', created: true });
    await golden('tag-push', verifiedParse(request));
  });

  it('a created branch has no previous commit', async () => {
    const request = delivery(fixture('branch-create.json'));
    expect(events(request)[0]).toMatchObject({ created: true, before: null });
    await golden('branch-create', verifiedParse(request));
  });

  it('a deleted branch has no commit to build', async () => {
    const request = delivery(fixture('branch-delete.json'));
    expect(events(request)[0]).toMatchObject({ deleted: true, sha: null });
    await golden('branch-delete', verifiedParse(request));
  });

  it('one push of two refs gives two events, each with its own delivery id', async () => {
    const request = delivery(fixture('multi-ref.json'));
    const [branch, tag] = events(request);
    expect(branch).toMatchObject({ refName: 'release/3.2', refKind: 'branch' });
    expect(tag).toMatchObject({ refName: 'v3.2.0', refKind: 'tag' });
    expect(branch!.sha).toBe(tag!.sha);
    expect(branch!.deliveryId).not.toBe(tag!.deliveryId);
    await golden('multi-ref', verifiedParse(request));
  });

  it('a test notification is ignored', async () => {
    const result = verifiedParse(delivery(fixture('test-notification.json')));
    expect(result).toMatchObject({ outcome: 'ignored', eventName: 'git.push' });
    await golden('test-notification', result);
  });

  it('a non-push event is ignored, naming it', async () => {
    const result = verifiedParse(delivery(fixture('pull-request-created.json')));
    expect(result).toMatchObject({ outcome: 'ignored', eventName: 'git.pullrequest.created' });
    await golden('pull-request-created', result);
  });
});

describe('Azure DevOps event → events (edges)', () => {
  it('reads the organization from a legacy <org>.visualstudio.com URL', () => {
    const [event] = events(
      withRemoteUrl('https://contoso.visualstudio.com/Web%20Shop/_git/storefront'),
    );
    expect(event!.repo.fullName).toBe('contoso/Web Shop/storefront');
  });

  it('reads the collection from an Azure DevOps Server URL, with or without the project', () => {
    const withProject = withRemoteUrl(
      'https://tfs.contoso.test/tfs/Main/Web%20Shop/_git/storefront',
    );
    expect(events(withProject)[0]!.repo.fullName).toBe('Main/Web Shop/storefront');
    const withoutProject = withRemoteUrl('https://tfs.contoso.test/tfs/Main/_git/storefront');
    expect(events(withoutProject)[0]!.repo.fullName).toBe('Main/Web Shop/storefront');
  });

  it('drops a user name from the remote URL, so git does not send it', () => {
    const [event] = events(
      withRemoteUrl('https://contoso@dev.azure.com/contoso/Web%20Shop/_git/storefront'),
    );
    expect(event!.repo.cloneUrl).toBe('https://dev.azure.com/contoso/Web%20Shop/_git/storefront');
  });

  it('names the field of a malformed push', () => {
    const text = new TextDecoder().decode(fixture('push.json')).replace('"refUpdates"', '"refs"');
    const error = errorOf(WebhookPayloadError, () => verifiedParse(delivery(encode(text))));
    expect(error.message).toContain('resource.refUpdates');
  });

  it('names the remote URL when it shows no organization', () => {
    const error = errorOf(WebhookPayloadError, () =>
      verifiedParse(withRemoteUrl('https://git.contoso.test/storefront.git')),
    );
    expect(error.message).toContain('resource.repository.remoteUrl');
  });
});

describe('Azure DevOps verification', () => {
  const body = fixture('push.json');
  const verifyError = (request: WebhookRequest, secrets: string[]) =>
    errorOf(WebhookVerificationError, () => azureDevOpsDriver.verify(request, secrets));

  it('accepts the configured Basic credentials', () => {
    expect(() => azureDevOpsDriver.verify(delivery(body), [SECRET])).not.toThrow();
  });

  it('rejects a wrong password, without echoing either', () => {
    const error = verifyError(delivery(body, 'codebuild-hook:guess'), [SECRET]);
    expect(error.reason).toBe('mismatch');
    expect(error.message).toContain('Authorization header does not match');
    expect(error.message).not.toContain('p4ss');
    expect(error.message).not.toContain('guess');
  });

  it('rejects a delivery without an Authorization header, naming it', () => {
    const error = verifyError({ headers: {}, body }, [SECRET]);
    expect(error.reason).toBe('missing-header');
    expect(error.message).toContain('no Authorization header');
  });

  it('fails closed when no secret is configured', () => {
    for (const secrets of [[], ['']]) {
      expect(verifyError(delivery(body, ''), secrets).reason).toBe('no-secret-configured');
    }
  });

  it('accepts the old credentials during rotation, and the new ones', () => {
    expect(() =>
      azureDevOpsDriver.verify(delivery(body, OLD_SECRET), [SECRET, OLD_SECRET]),
    ).not.toThrow();
    expect(() => azureDevOpsDriver.verify(delivery(body), [SECRET, OLD_SECRET])).not.toThrow();
  });

  it('rejects the right password under another user name', () => {
    const error = verifyError(delivery(body, 'someone:p4ss-7d21e9'), [SECRET]);
    expect(error.reason).toBe('mismatch');
  });
});
