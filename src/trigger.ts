/**
 * The one core both entries call after a delivery is accepted: each planned build is carried from
 * "accepted" to "final status posted" (ARCHITECTURE.md steps 3-6) by the Worker, durably, through
 * the store's job steps. `prepareStartBuild` is the request a job sends, for `explain`.
 */
export { type PrepareDeps, prepareStartBuild } from './pipeline/prepare.js';
export {
  DEFAULT_TIMING,
  type PipelineTiming,
  type TriggerDeps,
  type TriggerMetrics,
  type TriggerSecrets,
} from './pipeline/types.js';
export { Worker } from './pipeline/worker.js';
