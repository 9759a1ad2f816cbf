export { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export {
  type AcceptResult,
  type DeliveryRecord,
  JOB_STEPS,
  type JobPatch,
  type JobRecord,
  type JobStep,
  NEXT_STEPS,
  type NewDelivery,
  type NewJob,
  type Store,
  StoreError,
  type StoreErrorCode,
  type StoreStats,
  SUPERSEDABLE_STEPS,
} from './types.js';
