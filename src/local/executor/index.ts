export { executeBuild } from './executor.js';
export { agentLines, agentTime } from './log-format.js';
export { SecretMasker } from './mask.js';
export {
  createMemoryResolvers,
  parseSecretReference,
  type SecretReference,
} from './memory-store.js';
export { PHASE_ORDER } from './phases.js';
export { formatBuildSummary } from './summary.js';
export type {
  BuildEnvironmentVariable,
  BuildSource,
  BuildStatus,
  ExecuteOptions,
  ExecuteResult,
  PhaseContext,
  PhaseRecord,
} from './types.js';
