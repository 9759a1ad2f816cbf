/**
 * A Secrets Manager reference in CodeBuild's own format, `secret-id[:json-key[:version-stage
 * [:version-id]]]`, so one string means the same thing to this server and to a build.
 * A secret id is a name (letters, digits and /_+=.@-) or a full ARN, whose own colons are
 * counted: `arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/gh-AbCdEf:token`.
 */

export interface SecretReference {
  secretId: string;
  jsonKey: string | null;
  versionStage: string | null;
  versionId: string | null;
}

const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const EXAMPLE = 'e.g. codebuild-run/github:token (secret name, then an optional JSON key)';

/** The parts of `reference`, or a reason it is not one (the reason never repeats the input). */
export function parseSecretReference(reference: string): SecretReference | { problem: string } {
  const parts = reference.split(':');
  let secretId: string;
  let rest: string[];
  if (reference.startsWith('arn:')) {
    secretId = parts.slice(0, 7).join(':');
    rest = parts.slice(7);
    if (!ARN.test(secretId)) {
      return {
        problem:
          'not a Secrets Manager ARN: write arn:aws:secretsmanager:<region>:<account>:secret:<name>, or just the secret name',
      };
    }
  } else {
    secretId = parts[0]!;
    rest = parts.slice(1);
    if (!NAME.test(secretId)) {
      return {
        problem: `not a Secrets Manager reference: a secret name has only letters, digits and /_+=.@-, ${EXAMPLE}`,
      };
    }
  }
  if (rest.length > 3) {
    return {
      problem: 'too many ":" parts: the format is secret-id:json-key:version-stage:version-id',
    };
  }
  const [jsonKey, versionStage, versionId] = rest.map((part) => (part === '' ? null : part));
  return {
    secretId,
    jsonKey: jsonKey ?? null,
    versionStage: versionStage ?? null,
    versionId: versionId ?? null,
  };
}

/**
 * True when `value` looks like an access token itself rather than the name of a secret: the
 * well-known prefixes of GitHub, GitLab and Atlassian tokens, and Gitea's 40 hex digits.
 */
export function looksLikeToken(value: string): boolean {
  return (
    /^(ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|gldt-|glptt-|ATBB|ATATT|BBDC-)/.test(value) ||
    /^[0-9a-f]{40}$/.test(value)
  );
}
