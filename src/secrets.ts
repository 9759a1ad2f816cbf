/**
 * Reading the secrets the server itself needs (webhook secrets, API tokens) from Secrets
 * Manager. A reference is `secret-id[:json-key[:version-stage[:version-id]]]`, as CodeBuild
 * reads it, with ARNs' own colons understood. Values are cached for a while so a burst of
 * deliveries makes one request; a token the host refuses is re-read once (it may have rotated).
 * No error message ever contains a secret's value.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseSecretReference, type SecretReference } from './config/secret-reference.js';
import type { Clock } from './deps.js';
import { CodebuildRunError, HostApiError } from './errors.js';

export class SecretReadError extends CodebuildRunError {
  constructor(
    message: string,
    code: string,
    /** The secret id (name or ARN), never its value. */
    readonly secretId: string | null,
  ) {
    super(message, code);
  }
}

/** How long a value is reused before Secrets Manager is asked again. */
export const DEFAULT_SECRET_TTL_MS = 5 * 60_000;

interface Fetched {
  /** SecretString, or null when the secret holds only binary data. */
  text: string | null;
  expiresAt: number;
}

export class SecretReader {
  readonly #client: SecretsManagerClient;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, Fetched>();
  readonly #inflight = new Map<string, Promise<Fetched>>();

  constructor(deps: { client: SecretsManagerClient; clock: Clock; ttlMs?: number }) {
    this.#client = deps.client;
    this.#clock = deps.clock;
    this.#ttlMs = deps.ttlMs ?? DEFAULT_SECRET_TTL_MS;
  }

  /** The value `reference` points to; throws SecretReadError naming the secret and the fix. */
  async read(reference: string): Promise<string> {
    const parsed = parse(reference);
    const key = cacheKey(parsed);
    const cached = this.#cache.get(key);
    const fetched =
      cached && this.#clock.now() < cached.expiresAt
        ? cached
        : await this.#fetchShared(key, parsed);
    return extract(fetched.text, parsed);
  }

  /** Forget the cached value, so the next read asks Secrets Manager again (after a rotation). */
  invalidate(reference: string): void {
    const key = cacheKey(parse(reference));
    this.#cache.delete(key);
    this.#inflight.delete(key);
  }

  /** Concurrent reads of one secret share one request. */
  #fetchShared(key: string, reference: SecretReference): Promise<Fetched> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const request: Promise<Fetched> = this.#fetch(reference)
      .then((fetched) => {
        // A read invalidated while in flight must not put its (possibly stale) value back.
        if (this.#inflight.get(key) === request) this.#cache.set(key, fetched);
        return fetched;
      })
      .finally(() => {
        if (this.#inflight.get(key) === request) this.#inflight.delete(key);
      });
    this.#inflight.set(key, request);
    return request;
  }

  async #fetch(reference: SecretReference): Promise<Fetched> {
    try {
      const answer = await this.#client.send(
        new GetSecretValueCommand({
          SecretId: reference.secretId,
          VersionStage: reference.versionStage ?? undefined,
          VersionId: reference.versionId ?? undefined,
        }),
      );
      return { text: answer.SecretString ?? null, expiresAt: this.#clock.now() + this.#ttlMs };
    } catch (error) {
      throw await this.#explain(error, reference);
    }
  }

  async #explain(error: unknown, reference: SecretReference): Promise<SecretReadError> {
    const id = reference.secretId;
    const name = error instanceof Error ? error.name : 'Error';
    const awsMessage = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const version = reference.versionStage || reference.versionId ? ' (at that version)' : '';
    switch (name) {
      case 'ResourceNotFoundException':
        return new SecretReadError(
          `Secrets Manager has no secret "${id}"${version}${await this.#inRegion()}: create it, or fix the reference (a secret name or its full ARN)`,
          'secret.not-found',
          id,
        );
      case 'AccessDeniedException':
        return new SecretReadError(
          `access to secret "${id}" was denied: allow secretsmanager:GetSecretValue on it to the AWS role this runs as (and kms:Decrypt when a customer managed key encrypts it)`,
          'secret.access-denied',
          id,
        );
      case 'DecryptionFailure':
        return new SecretReadError(
          `secret "${id}" could not be decrypted: allow kms:Decrypt on its KMS key to the AWS role this runs as`,
          'secret.access-denied',
          id,
        );
      case 'CredentialsProviderError':
      case 'UnrecognizedClientException':
      case 'InvalidSignatureException':
      case 'ExpiredTokenException':
        return new SecretReadError(
          `reading secret "${id}" needs valid AWS credentials (${name}): give this process an AWS role or credentials`,
          'secret.no-credentials',
          id,
        );
      default:
        return new SecretReadError(
          `reading secret "${id}" from Secrets Manager failed: ${name}: ${awsMessage}; check that Secrets Manager${await this.#inRegion()} is reachable and try again`,
          'secret.unavailable',
          id,
        );
    }
  }

  async #inRegion(): Promise<string> {
    try {
      return ` in ${await this.#client.config.region()}`;
    } catch {
      return '';
    }
  }
}

function parse(reference: string): SecretReference {
  const parsed = parseSecretReference(reference);
  if ('problem' in parsed) {
    throw new SecretReadError(
      `a secret reference is unusable: ${parsed.problem}`,
      'secret.bad-reference',
      null,
    );
  }
  return parsed;
}

function cacheKey(reference: SecretReference): string {
  return JSON.stringify([reference.secretId, reference.versionStage, reference.versionId]);
}

/** The whole value, or one key of its JSON. Errors name keys, never values. */
function extract(text: string | null, reference: SecretReference): string {
  const id = reference.secretId;
  if (text === null) {
    throw new SecretReadError(
      `secret "${id}" holds binary data: store the value as text (SecretString)`,
      'secret.binary',
      id,
    );
  }
  const key = reference.jsonKey;
  if (key === null) {
    if (text === '')
      throw new SecretReadError(`secret "${id}" is empty: put the value in it`, 'secret.empty', id);
    return text;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // The parser's message quotes the text: it must not reach an error.
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SecretReadError(
      `secret "${id}" is not a JSON object, so it has no key "${key}": store it as {"${key}": "<value>"}, or drop ":${key}" from the reference to use the whole value`,
      'secret.not-json',
      id,
    );
  }
  const record = json as Record<string, unknown>;
  if (!(key in record)) {
    const keys = Object.keys(record);
    throw new SecretReadError(
      `secret "${id}" has no key "${key}" (its keys: ${keys.join(', ') || 'none'}): add it, or fix the key in the reference`,
      'secret.key-missing',
      id,
    );
  }
  const value = record[key];
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') {
    throw new SecretReadError(
      `key "${key}" of secret "${id}" holds ${value === null ? 'null' : `a JSON ${Array.isArray(value) ? 'list' : 'object'}`}, not text: store the value as a string`,
      'secret.not-text',
      id,
    );
  }
  if (value === '') {
    throw new SecretReadError(
      `key "${key}" of secret "${id}" is empty: put the value in it`,
      'secret.empty',
      id,
    );
  }
  return value;
}

/**
 * Calls `fn` with the token `reference` points to. When the host answers 401 (the token was
 * rotated or revoked), the cached token is dropped and `fn` runs once more with a fresh read;
 * a second 401, or any other error, is thrown as is.
 */
export async function withTokenRefresh<T>(
  reader: Pick<SecretReader, 'read' | 'invalidate'>,
  reference: string,
  fn: (token: string) => Promise<T>,
): Promise<T> {
  const token = await reader.read(reference);
  try {
    return await fn(token);
  } catch (error) {
    if (!(error instanceof HostApiError && error.status === 401)) throw error;
    reader.invalidate(reference);
    return fn(await reader.read(reference));
  }
}
