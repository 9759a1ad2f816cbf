import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../src/deps.js';
import { HostApiError } from '../src/errors.js';
import { SecretReadError, SecretReader, withTokenRefresh } from '../src/secrets.js';
import { type FakeClock, fakeClock } from './support/fake-clock.js';
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
} from './support/fake-secrets-manager.js';

const TOKEN = 'tok-3xAmpl3-v4lue';

let fake: FakeSecretsManager;
let client: SecretsManagerClient;
let clock: FakeClock;
let reader: SecretReader;

beforeAll(async () => {
  fake = await startFakeSecretsManager();
  client = new SecretsManagerClient({
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret-key' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
  fake.put('ci/plain', { text: TOKEN });
  fake.put('ci/github', {
    text: JSON.stringify({ token: TOKEN, webhook: 'wh-v4lue', retries: 3 }),
  });
  clock = fakeClock();
  reader = new SecretReader({ client, clock, ttlMs: 60_000 });
});

/** Holds the fake's answers; whatever a test leaves held is released after it. */
const releases: Array<() => void> = [];
function holdAnswers(): () => void {
  const release = fake.hold();
  releases.push(release);
  return release;
}
afterEach(() => {
  for (const release of releases.splice(0)) release();
});

interface LoggedLine {
  level: string;
  fields: object;
  message: string | undefined;
}

function recordingLogger(lines: LoggedLine[]): Logger {
  const at =
    (level: string) =>
    (fields: object, message?: string): void => {
      lines.push({ level, fields, message });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

/** Bounded wait for something the reader does in the background. */
const soon = { timeout: 3_000, interval: 5 };

async function errorOf(promise: Promise<unknown>): Promise<SecretReadError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SecretReadError) return error;
    throw error;
  }
  throw new Error('expected a SecretReadError');
}

describe('SecretReader.read', () => {
  it('reads a whole secret through the real SDK', async () => {
    expect(await reader.read('ci/plain')).toBe(TOKEN);
    expect(fake.requests).toEqual([
      { target: 'secretsmanager.GetSecretValue', body: { SecretId: 'ci/plain' } },
    ]);
  });

  it('reads one key of a JSON secret, numbers as text', async () => {
    expect(await reader.read('ci/github:token')).toBe(TOKEN);
    expect(await reader.read('ci/github:retries')).toBe('3');
  });

  it('reads by ARN, with and without a JSON key', async () => {
    const arn = fake.arnOf('ci/github');
    expect(await reader.read(`${arn}:webhook`)).toBe('wh-v4lue');
    expect(JSON.parse(await reader.read(arn))).toMatchObject({ token: TOKEN });
    expect(fake.requests.map((r) => r.body.SecretId)).toEqual([arn]);
  });

  it('passes a version stage and id on', async () => {
    expect(await reader.read('ci/github:token:AWSPREVIOUS:v-1')).toBe(TOKEN);
    expect(fake.requests[0]?.body).toEqual({
      SecretId: 'ci/github',
      VersionStage: 'AWSPREVIOUS',
      VersionId: 'v-1',
    });
  });

  it('asks once within the TTL, for every key of the secret', async () => {
    await reader.read('ci/github:token');
    await clock.sleep(59_999);
    expect(await reader.read('ci/github:webhook')).toBe('wh-v4lue');
    expect(await reader.read('ci/github:token')).toBe(TOKEN);
    expect(fake.requests).toHaveLength(1);
  });

  it('shares one request between concurrent reads', async () => {
    const values = await Promise.all([
      reader.read('ci/github:token'),
      reader.read('ci/github:webhook'),
      reader.read('ci/github:token'),
    ]);
    expect(values).toEqual([TOKEN, 'wh-v4lue', TOKEN]);
    expect(fake.requests).toHaveLength(1);
  });

  it('asks again after invalidate', async () => {
    await reader.read('ci/plain');
    reader.invalidate('ci/plain');
    await reader.read('ci/plain');
    expect(fake.requests).toHaveLength(2);
  });

  it('does not cache a failure', async () => {
    await errorOf(reader.read('ci/later'));
    fake.put('ci/later', { text: 'now-here' });
    expect(await reader.read('ci/later')).toBe('now-here');
  });

  it.each([
    [
      'a missing secret',
      'ci/missing',
      'secret.not-found',
      'Secrets Manager has no secret "ci/missing" in us-east-1: create it, or fix the reference',
    ],
    [
      'a denied secret',
      'ci/denied',
      'secret.access-denied',
      'access to secret "ci/denied" was denied: allow secretsmanager:GetSecretValue',
    ],
    [
      'a key of a secret that is not JSON',
      'ci/plain:token',
      'secret.not-json',
      'secret "ci/plain" is not a JSON object, so it has no key "token": store it as {"token": "<value>"}, or drop ":token"',
    ],
    [
      'a missing key',
      'ci/github:tokn',
      'secret.key-missing',
      'secret "ci/github" has no key "tokn" (its keys: token, webhook, retries)',
    ],
    [
      'a key holding an object',
      'ci/nested:token',
      'secret.not-text',
      'key "token" of secret "ci/nested" holds a JSON object, not text',
    ],
    ['an empty secret', 'ci/empty', 'secret.empty', 'secret "ci/empty" is empty'],
    ['a binary secret', 'ci/binary', 'secret.binary', 'secret "ci/binary" holds binary data'],
    [
      'a malformed reference',
      'has space',
      'secret.bad-reference',
      'a secret reference is unusable',
    ],
  ])('explains %s', async (_, reference, code, message) => {
    fake.put('ci/denied', { text: TOKEN, denied: true });
    fake.put('ci/nested', { text: JSON.stringify({ token: { value: TOKEN } }) });
    fake.put('ci/empty', { text: '' });
    fake.put('ci/binary', {});
    const error = await errorOf(reader.read(reference));
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(TOKEN);
  });

  it('never quotes a value that fails to parse as JSON', async () => {
    fake.put('ci/almost', { text: `{"token": "${TOKEN}"` });
    const error = await errorOf(reader.read('ci/almost:token'));
    expect(error.code).toBe('secret.not-json');
    expect(`${error.message} ${String(error.cause)}`).not.toContain(TOKEN);
  });

  it('names an unreachable Secrets Manager', async () => {
    const closed = await startFakeSecretsManager();
    await closed.close();
    const offline = new SecretsManagerClient({
      endpoint: closed.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret-key' },
      maxAttempts: 1,
    });
    const error = await errorOf(new SecretReader({ client: offline, clock }).read('ci/plain'));
    offline.destroy();
    expect(error.code).toBe('secret.unavailable');
    expect(error.message).toMatch(/^reading secret "ci\/plain" from Secrets Manager failed: /);
  });
});

describe('SecretReader past the TTL', () => {
  const ROTATED = 'r0tat3d-v4lue';

  it('answers the cached value at once, refreshes it with one request, then answers the new one', async () => {
    await reader.read('ci/github:token');
    fake.put('ci/github', { text: JSON.stringify({ token: ROTATED, webhook: 'wh-v4lue' }) });
    await clock.sleep(60_000);
    const release = holdAnswers();
    // Secrets Manager does not answer while held, so these reads can only come from the cache.
    expect(await reader.read('ci/github:token')).toBe(TOKEN);
    expect(await reader.read('ci/github:webhook')).toBe('wh-v4lue');
    expect(await reader.read('ci/github:token')).toBe(TOKEN);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2), soon);
    release();
    await vi.waitFor(async () => expect(await reader.read('ci/github:token')).toBe(ROTATED), soon);
    expect(fake.requests).toHaveLength(2);
  });

  it('keeps answering the cached value when the refresh fails, and warns without the value', async () => {
    const lines: LoggedLine[] = [];
    reader = new SecretReader({ client, clock, ttlMs: 60_000, logger: recordingLogger(lines) });
    await reader.read('ci/plain');
    fake.put('ci/plain', { text: ROTATED, denied: true });
    await clock.sleep(60_000);
    const release = holdAnswers();
    for (let i = 0; i < 3; i++) expect(await reader.read('ci/plain')).toBe(TOKEN);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2), soon);
    release();
    await vi.waitFor(() => expect(lines.length).toBeGreaterThan(0), soon);
    // One refresh in flight, so one warning however many reads came while it ran.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      fields: {
        secretId: 'ci/plain',
        code: 'secret.access-denied',
        error: expect.stringContaining('access to secret "ci/plain" was denied'),
      },
    });
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(JSON.stringify(lines)).not.toContain(ROTATED);
    expect(await reader.read('ci/plain')).toBe(TOKEN);
  });

  it('retries a failed refresh no sooner than 30 s later, not on every read', async () => {
    const lines: LoggedLine[] = [];
    reader = new SecretReader({ client, clock, ttlMs: 60_000, logger: recordingLogger(lines) });
    await reader.read('ci/plain');
    fake.put('ci/plain', { text: ROTATED, denied: true });
    await clock.sleep(60_000);
    await reader.read('ci/plain');
    await vi.waitFor(() => expect(lines).toHaveLength(1), soon);
    await clock.sleep(29_999);
    for (let i = 0; i < 5; i++) expect(await reader.read('ci/plain')).toBe(TOKEN);
    expect(fake.requests).toHaveLength(2);
    fake.put('ci/plain', { text: ROTATED });
    await clock.sleep(1);
    expect(await reader.read('ci/plain')).toBe(TOKEN);
    await vi.waitFor(async () => expect(await reader.read('ci/plain')).toBe(ROTATED), soon);
    expect(fake.requests).toHaveLength(3);
    expect(lines).toHaveLength(1);
  });

  it('past maxStaleMs waits for Secrets Manager and says why the old value was not used', async () => {
    reader = new SecretReader({ client, clock, ttlMs: 60_000, maxStaleMs: 10 * 60_000 });
    await reader.read('ci/plain');
    fake.put('ci/plain', { text: ROTATED, denied: true });
    await clock.sleep(10 * 60_000 - 1);
    expect(await reader.read('ci/plain')).toBe(TOKEN);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2), soon);
    await clock.sleep(1);
    const error = await errorOf(reader.read('ci/plain'));
    expect(error.code).toBe('secret.access-denied');
    expect(error.secretId).toBe('ci/plain');
    expect(error.message).toContain('access to secret "ci/plain" was denied');
    expect(error.message).toContain('the value read 10 min ago is past the 10 min limit');
    expect(error.message).not.toContain(TOKEN);
  });

  it('past maxStaleMs a read waits for the new value', async () => {
    reader = new SecretReader({ client, clock, ttlMs: 60_000, maxStaleMs: 10 * 60_000 });
    await reader.read('ci/plain');
    fake.put('ci/plain', { text: ROTATED });
    await clock.sleep(10 * 60_000);
    const release = holdAnswers();
    let settled = false;
    const reading = reader.read('ci/plain').finally(() => {
      settled = true;
    });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2), soon);
    expect(settled).toBe(false);
    release();
    expect(await reading).toBe(ROTATED);
  });

  it('after invalidate, waits for the new value instead of answering the stale one', async () => {
    await reader.read('ci/plain');
    fake.put('ci/plain', { text: ROTATED });
    await clock.sleep(60_000);
    reader.invalidate('ci/plain');
    expect(await reader.read('ci/plain')).toBe(ROTATED);
    expect(fake.requests).toHaveLength(2);
  });

  it('after invalidate during a background refresh, asks again rather than trust that refresh', async () => {
    await reader.read('ci/plain');
    fake.put('ci/plain', { text: ROTATED });
    await clock.sleep(60_000);
    const release = holdAnswers();
    expect(await reader.read('ci/plain')).toBe(TOKEN);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2), soon);
    reader.invalidate('ci/plain');
    const reading = reader.read('ci/plain');
    await vi.waitFor(() => expect(fake.requests).toHaveLength(3), soon);
    release();
    expect(await reading).toBe(ROTATED);
  });
});

describe('withTokenRefresh', () => {
  const unauthorized = (status: number) =>
    new HostApiError('GitHub', status, 'Bad credentials', 'POST', 'https://api.github.com/x');

  it('passes the token and returns what fn returns', async () => {
    const seen: string[] = [];
    const result = await withTokenRefresh(reader, 'ci/github:token', async (token) => {
      seen.push(token);
      return 'posted';
    });
    expect(result).toBe('posted');
    expect(seen).toEqual([TOKEN]);
  });

  it('re-reads the token once after a 401, even within the TTL', async () => {
    await reader.read('ci/github:token');
    fake.put('ci/github', { text: JSON.stringify({ token: 'rotated' }) });
    const seen: string[] = [];
    const result = await withTokenRefresh(reader, 'ci/github:token', async (token) => {
      seen.push(token);
      if (token !== 'rotated') throw unauthorized(401);
      return 'posted';
    });
    expect(result).toBe('posted');
    expect(seen).toEqual([TOKEN, 'rotated']);
    expect(fake.requests).toHaveLength(2);
  });

  it('re-reads the token after a 401 past the TTL, not answering the stale one again', async () => {
    await reader.read('ci/github:token');
    fake.put('ci/github', { text: JSON.stringify({ token: 'rotated' }) });
    await clock.sleep(60_000);
    const seen: string[] = [];
    const result = await withTokenRefresh(reader, 'ci/github:token', async (token) => {
      seen.push(token);
      if (token !== 'rotated') throw unauthorized(401);
      return 'posted';
    });
    expect(result).toBe('posted');
    expect(seen).toEqual([TOKEN, 'rotated']);
  });

  it('throws the second 401: it retries exactly once', async () => {
    let calls = 0;
    const attempt = withTokenRefresh(reader, 'ci/github:token', async () => {
      calls++;
      throw unauthorized(401);
    });
    await expect(attempt).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(2);
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    ['a 403', unauthorized(403)],
    ['a 500', unauthorized(500)],
    ['another error', new Error('socket hang up')],
  ])('does not retry %s', async (_, thrown) => {
    let calls = 0;
    const attempt = withTokenRefresh(reader, 'ci/github:token', async () => {
      calls++;
      throw thrown;
    });
    await expect(attempt).rejects.toBe(thrown);
    expect(calls).toBe(1);
    expect(fake.requests).toHaveLength(1);
  });
});
