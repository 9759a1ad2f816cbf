/**
 * The server's own secrets (webhook secrets, API tokens), from where the config says: an
 * environment variable of this process, or a Secrets Manager reference read through SecretReader
 * (cached, so a burst of deliveries makes one request). Errors name the source, never a value.
 */
import type { SecretSource } from '../src/config.js';
import { SecretReadError, type SecretReader } from '../src/secrets.js';

export interface SecretResolver {
  resolve(source: SecretSource): Promise<string>;
  /** Forget a cached value (a token the host refused may have been rotated). */
  invalidate(source: SecretSource): void;
}

export function createSecretResolver(deps: {
  env: Readonly<Record<string, string | undefined>>;
  /** Null where no Secrets Manager is reachable (then references fail with the reason). */
  reader: Pick<SecretReader, 'read' | 'invalidate'> | null;
}): SecretResolver {
  return {
    async resolve(source) {
      if (source.from === 'env') {
        const value = deps.env[source.name];
        if (value === undefined || value === '') {
          throw new SecretReadError(
            `the environment variable ${source.name} is ${value === undefined ? 'not set' : 'empty'}: set it in the server's environment, or point the config at a Secrets Manager secret`,
            'secret.env-missing',
            null,
          );
        }
        return value;
      }
      if (!deps.reader) {
        throw new SecretReadError(
          `the config refers to Secrets Manager ("${source.reference}") but this process has no AWS access; give it AWS credentials and a region, or use { env: VARIABLE }`,
          'secret.no-credentials',
          null,
        );
      }
      return deps.reader.read(source.reference);
    },
    invalidate(source) {
      if (source.from === 'secretsManager') deps.reader?.invalidate(source.reference);
    },
  };
}

/** How a secret source reads in explain output and logs: the reference, never the value. */
export function describeSource(source: SecretSource | null): string | null {
  if (source === null) return null;
  return source.from === 'env' ? `env:${source.name}` : `secretsManager:${source.reference}`;
}
