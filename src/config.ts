/**
 * The config: which git hosts send pushes, and which rules turn a push into CodeBuild builds.
 * `parseConfig(text, source)` reads YAML or JSON and throws one ConfigError listing every
 * problem with its key, line and fix. The keys are documented in src/config/.
 */
export { type GlobField, globMatcher, globProblem, type NameMatcher } from './config/globs.js';
export { HOST_KINDS, SELF_HOSTED_KINDS, type SecretSource } from './config/host.js';
export { ConfigError, type ConfigIssue, parseConfig } from './config/parse.js';
export type { BuildspecSource } from './config/rule.js';
export type { BuildOverrides, Config, HostConfig, Rule } from './config/schema.js';
export {
  looksLikeToken,
  parseSecretReference,
  type SecretReference,
} from './config/secret-reference.js';
