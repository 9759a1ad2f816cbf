export { BuildspecError, type ParsedBuildspec, parseBuildspec } from './parse.js';
export { Buildspec, BuildspecEnv, BuildspecPhase, PHASE_NAMES, type PhaseName } from './schema.js';
