/**
 * Reading the secrets the server itself needs (webhook secrets, API tokens) from Secrets
 * Manager. A reference is `secret-id[:json-key[:version-stage[:version-id]]]`, as CodeBuild
 * reads it, with ARNs' own colons understood. Values are cached and refreshed in the background,
 * so a delivery never waits on Secrets Manager for a secret it has read before; a token the host
 * refuses is re-read once (it may have rotated).
 * No error message ever contains a secret's value.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseSecretReference, type SecretReference } from './config/secret-reference.js';
import { type Clock, type Logger, silentLogger } from './deps.js';
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

/** How long a value is served without asking Secrets Manager again. */
export const DEFAULT_SECRET_TTL_MS = 5 * 60_000;
/**
 * How old a value may get while refreshes keep failing. Past it a read waits for Secrets Manager
 * and fails with it: serving a value for ever would hide a secret that was deleted or revoked.
 */
export const DEFAULT_SECRET_MAX_STALE_MS = 60 * 60_000;
/** After a failed background refresh, the next try waits this long: one warning, not one per read. */
const REFRESH_RETRY_MS = 30_000;

interface Fetched {
  /** SecretString, or null when the secret holds only binary data. */
  text: string | null;
  fetchedAt: number;
  /** Set after a failed background refresh: no new refresh starts before then. */
  retryRefreshAt?: number;
}

/**
 * Stale-while-revalidate: within the TTL a value comes from the cache; past it the cached value is
 * still answered at once while one request per secret refreshes it in the background, because the
 * webhook server resolves a secret on every delivery and must answer in milliseconds. Only a value
 * older than `maxStaleMs` (or none at all) makes a read wait for Secrets Manager.
 */
export class SecretReader {
  readonly #client: SecretsManagerClient;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #maxStaleMs: number;
  readonly #cache = new Map<string, Fetched>();
  readonly #inflight = new Map<string, Promise<Fetched>>();

  constructor(deps: {
    client: SecretsManagerClient;
    clock: Clock;
    /** Where a failed background refresh is reported (at warn, with the secret id, never the value). */
    logger?: Logger;
    ttlMs?: number;
    /** The oldest value served, counted from when it was read; at least `ttlMs`. */
    maxStaleMs?: number;
  }) {
    this.#client = deps.client;
    this.#clock = deps.clock;
    this.#logger = deps.logger ?? silentLogger;
    this.#ttlMs = deps.ttlMs ?? DEFAULT_SECRET_TTL_MS;
    this.#maxStaleMs = Math.max(this.#ttlMs, deps.maxStaleMs ?? DEFAULT_SECRET_MAX_STALE_MS);
  }

  /** The value `reference` points to; throws SecretReadError naming the secret and the fix. */
  async read(reference: string): Promise<string> {
    const parsed = parse(reference);
    const key = cacheKey(parsed);
    const cached = this.#cache.get(key);
    if (cached) {
      const age = this.#clock.now() - cached.fetchedAt;
      if (age < this.#ttlMs) return extract(cached.text, parsed);
      if (age < this.#maxStaleMs) {
        this.#refreshInBackground(key, parsed, cached);
        return extract(cached.text, parsed);
      }
    }
    let fetched: Fetched;
    try {
      fetched = await this.#fetchShared(key, parsed);
    } catch (error) {
      throw cached && error instanceof SecretReadError ? this.#tooStale(error, cached) : error;
    }
    return extract(fetched.text, parsed);
  }

  /** Forget the cached value, so the next read asks Secrets Manager again (after a rotation). */
  invalidate(reference: string): void {
    const key = cacheKey(parse(reference));
    this.#cache.delete(key);
    this.#inflight.delete(key);
  }

  /** Starts a refresh unless one is running or a failed one is still cooling down. */
  #refreshInBackground(key: string, reference: SecretReference, cached: Fetched): void {
    if (this.#inflight.has(key)) return;
    if (cached.retryRefreshAt !== undefined && this.#clock.now() < cached.retryRefreshAt) return;
    this.#fetchShared(key, reference).catch((error: unknown) => {
      if (this.#cache.get(key) === cached) {
        cached.retryRefreshAt = this.#clock.now() + REFRESH_RETRY_MS;
      }
      // SecretReadError messages name the secret, never its value.
      this.#logger.warn(
        {
          secretId: reference.secretId,
          code: error instanceof SecretReadError ? error.code : undefined,
          error: error instanceof Error ? error.message : String(error),
          valueAgeMs: this.#clock.now() - cached.fetchedAt,
        },
        'refreshing a secret from Secrets Manager failed; the cached value is still used',
      );
    });
  }

  /** The failure of a read that had only a value too old to serve, saying why it was not used. */
  #tooStale(error: SecretReadError, cached: Fetched): SecretReadError {
    const minutes = Math.round((this.#clock.now() - cached.fetchedAt) / 60_000);
    const limit = Math.round(this.#maxStaleMs / 60_000);
    return new SecretReadError(
      `${error.message} (the value read ${minutes} min ago is past the ${limit} min limit for serving a value Secrets Manager cannot confirm, so it is not used)`,
      error.code,
      error.secretId,
    );
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
      return { text: answer.SecretString ?? null, fetchedAt: this.#clock.now() };
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
