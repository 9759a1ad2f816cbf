export { type InjectedBuildspec, injectClonePrelude } from './inject.js';
export {
  BUILDSPEC_MAX_CHARS,
  BuildspecLimitError,
  checkBuildspecLimits,
  ENV_VALUE_MAX_CHARS,
  type LimitOptions,
} from './limits.js';
export { BuildspecError, type ParsedBuildspec, parseBuildspec } from './parse.js';
export {
  CLONE_VARIABLE_PREFIX,
  CLONE_VARIABLES,
  type CloneSource,
  CloneSourceError,
  cloneEnvironment,
  cloneGuardCommand,
  clonePreludeScript,
  type EnvironmentVariable,
  validateCloneSource,
} from './prelude.js';
export { Buildspec, BuildspecEnv, BuildspecPhase, PHASE_NAMES, type PhaseName } from './schema.js';
