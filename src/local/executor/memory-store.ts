/**
 * Secrets and parameters held in memory, for `local run --secret/--parameter` and tests: the
 * resolvers executeBuild takes. A secret reference is CodeBuild's
 * `secret-id[:json-key[:version-stage[:version-id]]]`; the secret id may be a full ARN (its
 * colons are part of the id). With a json-key the secret's value is a JSON object and the key's
 * value is used. The store keeps one version per secret, so version stage and id are accepted
 * and not checked. Errors name the secret or parameter, never a value.
 */

export interface SecretReference {
  secretId: string;
  jsonKey?: string;
  versionStage?: string;
  versionId?: string;
}

export function parseSecretReference(reference: string): SecretReference {
  const parts = reference.split(':');
  // arn:aws:secretsmanager:<region>:<account>:secret:<name> is one id of seven parts.
  const idParts = parts[0] === 'arn' ? 7 : 1;
  const secretId = parts.slice(0, idParts).join(':');
  const [jsonKey, versionStage, versionId] = parts.slice(idParts);
  return {
    secretId,
    ...(jsonKey ? { jsonKey } : {}),
    ...(versionStage ? { versionStage } : {}),
    ...(versionId ? { versionId } : {}),
  };
}

export interface MemoryResolvers {
  resolveSecret(reference: string): Promise<string>;
  resolveParameter(name: string): Promise<string>;
}

export function createMemoryResolvers(
  secrets: ReadonlyMap<string, string>,
  parameters: ReadonlyMap<string, string>,
): MemoryResolvers {
  return {
    async resolveSecret(reference) {
      const { secretId, jsonKey } = parseSecretReference(reference);
      const value = secrets.get(secretId);
      if (value === undefined) {
        throw new Error(`secret "${secretId}" is not defined`);
      }
      if (!jsonKey) return value;
      let document: unknown;
      try {
        document = JSON.parse(value);
      } catch {
        throw new Error(
          `secret "${secretId}" is not a JSON object, so its key "${jsonKey}" cannot be read`,
        );
      }
      const field =
        document && typeof document === 'object' && !Array.isArray(document)
          ? (document as Record<string, unknown>)[jsonKey]
          : undefined;
      if (field === undefined) {
        throw new Error(`secret "${secretId}" has no key "${jsonKey}"`);
      }
      return typeof field === 'string' ? field : JSON.stringify(field);
    },
    async resolveParameter(name) {
      const value = parameters.get(name);
      if (value === undefined) {
        throw new Error(`parameter "${name}" is not defined`);
      }
      return value;
    },
  };
}
