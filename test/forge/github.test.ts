import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/errors.js';
import { githubDriver } from '../../src/forge/github/index.js';
import type { PushEvent, WebhookRequest } from '../../src/forge/types.js';
import {
  fixtureBytes,
  headers,
  ownFixtures,
  repoRoot,
  sharedFixtures,
} from '../support/fixtures.js';

const SECRET = 'gh-test-secret-3f9a';
const OLD_SECRET = 'gh-old-secret-77b1';
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

/** Payloads from @octokit/webhooks-examples, by event name and index. */
function octokitExample(event: string, index: number): Uint8Array {
  const file = join(repoRoot, 'node_modules/@octokit/webhooks-examples/api.github.com/index.json');
  const all = JSON.parse(readFileSync(file, 'utf8')) as { name: string; examples: unknown[] }[];
  const example = all.find((e) => e.name === event)?.examples[index];
  if (!example) throw new Error(`no @octokit/webhooks-examples ${event}[${index}]`);
  // These examples exist only as parsed JSON: these bytes are the delivery, signed as they are.
  return new TextEncoder().encode(JSON.stringify(example, null, 2));
}

const own = (name: string) => fixtureBytes(join(ownFixtures, 'webhooks', 'github', name));

async function signed(
  body: Uint8Array,
  event = 'push',
  secret = SECRET,
  extra: Record<string, string> = {},
): Promise<WebhookRequest> {
  return {
    headers: headers({
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': DELIVERY,
      'X-Hub-Signature-256': await sign(secret, new TextDecoder().decode(body)),
      'Content-Type': 'application/json',
      ...extra,
    }),
    body,
  };
}

function verifiedParse(request: WebhookRequest) {
  githubDriver.verify(request, [SECRET]);
  return githubDriver.parse(request);
}

function onlyEvent(request: WebhookRequest): PushEvent {
  const result = verifiedParse(request);
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

const golden = (name: string, value: unknown) =>
  expect(JSON.stringify(value, null, 2)).toMatchFileSnapshot(`__golden__/github/${name}.json`);

describe('GitHub delivery → events (golden)', () => {
  it('a branch push builds the pushed commit with its changed paths', async () => {
    const request = await signed(fixtureBytes(join(sharedFixtures, 'github', 'push.json')));
    const event = onlyEvent(request);
    expect(event).toMatchObject({
      sha: '199eddf46df50de8d02e99bf1c5fdb4101338224',
      changedPaths: { paths: ['README.md'], truncated: false },
      deliveryId: DELIVERY,
    });
    await golden('push', verifiedParse(request));
  });

  it('an annotated tag builds the commit it points to, not the tag object', async () => {
    const request = await signed(own('tag-annotated.json'));
    const event = onlyEvent(request);
    expect(event.sha).toBe('9f2b7c41e0d35a8b6c4f1e2d3a5b7c9d0e1f2a3b');
    expect(event).toMatchObject({ refKind: 'tag', refName: 'v1.4.0', created: true, before: null });
    // GitHub lists no commits for a tag: no paths known, rather than "nothing changed".
    expect(event.changedPaths).toBeNull();
    await golden('tag-annotated', verifiedParse(request));
  });

  it('a created branch has no previous commit', async () => {
    const request = await signed(octokitExample('push', 4));
    expect(onlyEvent(request)).toMatchObject({ created: true, before: null, refName: 'master' });
    await golden('branch-create', verifiedParse(request));
  });

  it('a deleted branch has no commit to build', async () => {
    const request = await signed(own('branch-delete.json'));
    expect(onlyEvent(request)).toMatchObject({ deleted: true, sha: null, changedPaths: null });
    await golden('branch-delete', verifiedParse(request));
  });

  it('a ping is ignored with its reason', async () => {
    const request = await signed(octokitExample('ping', 0), 'ping');
    const result = verifiedParse(request);
    expect(result).toMatchObject({ outcome: 'ignored', eventName: 'ping' });
    await golden('ping', result);
  });
});

describe('GitHub delivery → events (edges)', () => {
  it('a lightweight tag builds the tagged commit', async () => {
    const event = onlyEvent(await signed(octokitExample('push', 0)));
    expect(event).toMatchObject({
      refKind: 'tag',
      refName: 'simple-tag',
      sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    });
  });

  it('reads a SHA-256 repository deletion (64 zeros) as deleted', async () => {
    const text = new TextDecoder()
      .decode(own('branch-delete.json'))
      .replace('b1946ac92492d2347c6235b4d2611184aa3f1d90', 'ab'.repeat(32))
      .replace('"0000000000000000000000000000000000000000"', `"${'0'.repeat(64)}"`);
    const event = onlyEvent(await signed(new TextEncoder().encode(text)));
    expect(event).toMatchObject({ deleted: true, sha: null, before: 'ab'.repeat(32) });
  });

  it('marks the paths truncated when GitHub may have cut the commit list', async () => {
    const payload = JSON.parse(
      new TextDecoder().decode(fixtureBytes(join(sharedFixtures, 'github', 'push.json'))),
    );
    const commit = payload.commits[0];
    payload.commits = Array.from({ length: 2048 }, () => commit);
    const event = onlyEvent(await signed(new TextEncoder().encode(JSON.stringify(payload))));
    expect(event.changedPaths).toEqual({ paths: ['README.md'], truncated: true });
  });

  it('ignores other events, naming them', async () => {
    const result = verifiedParse(await signed(new TextEncoder().encode('{}'), 'issues'));
    expect(result).toEqual({
      outcome: 'ignored',
      eventName: 'issues',
      reason: 'GitHub "issues" events are not pushes; subscribe the webhook to pushes only',
    });
  });

  it('names the missing field of a malformed push', async () => {
    const text = new TextDecoder()
      .decode(own('branch-delete.json'))
      .replace('"clone_url"', '"clone_link"');
    const request = await signed(new TextEncoder().encode(text));
    const error = errorOf(WebhookPayloadError, () => verifiedParse(request));
    expect(error.message).toContain('repository.clone_url');
  });

  it('tells to switch a form-encoded webhook to JSON', async () => {
    const request = await signed(new TextEncoder().encode('payload=%7B%7D'));
    const error = errorOf(WebhookPayloadError, () => verifiedParse(request));
    expect(error.message).toContain('set its content type to application/json');
  });
});

describe('GitHub verification', () => {
  const body = fixtureBytes(join(sharedFixtures, 'github', 'push.json'));
  const verifyError = (request: WebhookRequest, secrets: string[]) =>
    errorOf(WebhookVerificationError, () => githubDriver.verify(request, secrets));

  it('accepts the exact bytes signed with the secret', async () => {
    const request = await signed(body);
    expect(() => githubDriver.verify(request, [SECRET])).not.toThrow();
  });

  it('rejects a signature made with another secret', async () => {
    const error = verifyError(await signed(body, 'push', 'someone-else'), [SECRET]);
    expect(error.reason).toBe('mismatch');
    expect(error.message).toContain('X-Hub-Signature-256 signature does not match');
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects a delivery without the signature header, naming it', async () => {
    const request = await signed(body);
    const { 'x-hub-signature-256': _, ...rest } = request.headers;
    const error = verifyError({ ...request, headers: rest }, [SECRET]);
    expect(error.reason).toBe('missing-header');
    expect(error.message).toContain('no X-Hub-Signature-256 header');
  });

  it('fails closed when no secret is configured', async () => {
    const request = await signed(body);
    for (const secrets of [[], ['']]) {
      const error = verifyError(request, secrets);
      expect(error.reason).toBe('no-secret-configured');
      expect(error.message).toContain('no webhook secret is configured');
    }
  });

  it('accepts the old secret during rotation, and the new one', async () => {
    const viaOld = await signed(body, 'push', OLD_SECRET);
    expect(() => githubDriver.verify(viaOld, [SECRET, OLD_SECRET])).not.toThrow();
    const viaNew = await signed(body);
    expect(() => githubDriver.verify(viaNew, [SECRET, OLD_SECRET])).not.toThrow();
  });

  it('rejects a body altered by one byte', async () => {
    const request = await signed(body);
    const altered = new Uint8Array(body);
    altered[10] = altered[10]! ^ 0x01;
    const error = verifyError({ ...request, body: altered }, [SECRET]);
    expect(error.reason).toBe('mismatch');
  });

  it('rejects a SHA-1 signature in the SHA-256 header as malformed', async () => {
    const request = await signed(body, 'push', SECRET, { 'X-Hub-Signature-256': 'sha1=abc' });
    const error = verifyError(request, [SECRET]);
    expect(error.reason).toBe('malformed-header');
    expect(error.message).toContain('sha256=<hex HMAC-SHA256>');
  });
});
