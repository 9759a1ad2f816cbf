/**
 * Secrets Manager's CreateSecret, PutSecretValue and GetSecretValue over the local store, and the
 * resolution of a buildspec's `secret-id:json-key:version-stage:version-id` reference.
 * No message here ever holds a secret's value.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseSecretReference } from '../executor/index.js';
import type { StoredSecret, StoredSecretVersion } from '../store/index.js';
import type { EndpointContext } from './context.js';
import { AwsError, defined, type Input, InputReader, seconds } from './wire.js';

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
const secretNotFound = () =>
  new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

function randomSuffix(): string {
  return [...randomBytes(6)].map((byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join('');
}

function readValue(
  reader: InputReader,
): Pick<StoredSecretVersion, 'secretString' | 'secretBinary'> {
  const secretString = reader.optionalString('SecretString');
  const secretBinary = reader.optionalString('SecretBinary');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  return defined({ secretString, secretBinary });
}

const sameValue = (a: Partial<StoredSecretVersion>, b: Partial<StoredSecretVersion>) =>
  a.secretString === b.secretString && a.secretBinary === b.secretBinary;

export function createSecret(ctx: EndpointContext, input: Input): object {
  const reader = new InputReader(input);
  const name = reader.string('Name');
  if (!SECRET_NAME.test(name)) {
    throw invalidParameter(
      `Invalid name "${name}": use 1-512 letters, digits and /_+=.@- characters`,
    );
  }
  const value = readValue(reader);
  const versionId = reader.optionalString('ClientRequestToken') ?? randomUUID();
  const secret: StoredSecret = defined({
    name,
    arn: `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}-${randomSuffix()}`,
    description: reader.optionalString('Description'),
    created: ctx.clock.now(),
  });
  const hasValue = value.secretString !== undefined || value.secretBinary !== undefined;
  const first = { versionId, ...value, stages: ['AWSCURRENT'], created: secret.created };
  if (!ctx.store.secrets.create(secret, hasValue ? first : undefined)) {
    // A retry of the same request (same token, same value) succeeds again.
    const existing = ctx.store.secrets.find(name)!;
    const version = ctx.store.secrets.versions(name).find((v) => v.versionId === versionId);
    if (version && sameValue(version, value)) {
      return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
    }
    throw new AwsError(
      'ResourceExistsException',
      `The operation failed because the secret ${name} already exists.`,
    );
  }
  return defined({ ARN: secret.arn, Name: name, VersionId: hasValue ? versionId : undefined });
}

export function putSecretValue(ctx: EndpointContext, input: Input): object {
  const reader = new InputReader(input);
  const secret = ctx.store.secrets.find(reader.string('SecretId'));
  if (!secret) throw secretNotFound();
  const value = readValue(reader);
  if (value.secretString === undefined && value.secretBinary === undefined) {
    throw invalidParameter('You must provide either SecretString or SecretBinary.');
  }
  const versionId = reader.optionalString('ClientRequestToken') ?? randomUUID();
  const stagesInput = reader.raw('VersionStages');
  const stages = Array.isArray(stagesInput) ? stagesInput.map(String) : ['AWSCURRENT'];
  const existing = ctx.store.secrets.versions(secret.name).find((v) => v.versionId === versionId);
  if (existing) {
    if (!sameValue(existing, value)) {
      throw new AwsError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: versionId,
      VersionStages: existing.stages,
    };
  }
  ctx.store.secrets.addVersion(secret.name, {
    versionId,
    ...value,
    stages,
    created: ctx.clock.now(),
  });
  return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: stages };
}

/** The version a GetSecretValue (or a buildspec reference) asks for: by id, else by stage. */
function findVersion(
  ctx: EndpointContext,
  secretId: string,
  versionId: string | undefined,
  stage: string | undefined,
): { secret: StoredSecret; version: StoredSecretVersion } {
  const secret = ctx.store.secrets.find(secretId);
  if (!secret) throw secretNotFound();
  const versions = ctx.store.secrets.versions(secret.name);
  const version = versionId
    ? versions.find((v) => v.versionId === versionId && (!stage || v.stages.includes(stage)))
    : versions.find((v) => v.stages.includes(stage ?? 'AWSCURRENT'));
  if (!version) {
    throw new AwsError(
      'ResourceNotFoundException',
      versionId
        ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
        : `Secrets Manager can't find the specified secret value for staging label: ${stage ?? 'AWSCURRENT'}`,
    );
  }
  return { secret, version };
}

export function getSecretValue(ctx: EndpointContext, input: Input): object {
  const reader = new InputReader(input);
  const { secret, version } = findVersion(
    ctx,
    reader.string('SecretId'),
    reader.optionalString('VersionId'),
    reader.optionalString('VersionStage'),
  );
  return defined({
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.secretString,
    SecretBinary: version.secretBinary,
    VersionStages: version.stages,
    CreatedDate: seconds(version.created),
  });
}

/**
 * A buildspec's `secret-id[:json-key[:version-stage[:version-id]]]` → the value; without a
 * json-key, the whole SecretString.
 */
export function resolveSecretReference(ctx: EndpointContext, reference: string): string {
  const { secretId, jsonKey, versionStage, versionId } = parseSecretReference(reference);
  let found: ReturnType<typeof findVersion>;
  try {
    found = findVersion(ctx, secretId, versionId, versionStage);
  } catch (error) {
    throw new Error(`Secrets Manager secret ${secretId}: ${(error as Error).message}`);
  }
  const text = found.version.secretString;
  if (text === undefined) {
    throw new Error(
      `Secrets Manager secret ${secretId} holds a binary value; a build variable needs a SecretString`,
    );
  }
  if (jsonKey === undefined) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(
      `Secrets Manager secret ${secretId} is not a JSON object, so its key ${jsonKey} cannot be read; drop the key from the reference or store JSON`,
    );
  }
  if (!(jsonKey in parsed)) {
    throw new Error(`Secrets Manager secret ${secretId} has no JSON key ${jsonKey}`);
  }
  const value = (parsed as Record<string, unknown>)[jsonKey];
  return typeof value === 'string' ? value : JSON.stringify(value);
}
