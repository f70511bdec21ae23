export { type CrossAppImport, findCrossAppImports, formatCrossAppImport } from "./app-boundaries.ts";
export { findImportCircles, formatImportCircle, type ImportCircle } from "./circles.ts";
export { findUnredactedWorkers, type ObservabilityFinding } from "./observability.ts";
export {
  findSqlInSource,
  findSqlOutsideStores,
  formatSqlFinding,
  looksLikeSql,
  SQL_ALLOWED,
  type SqlFinding,
} from "./sql.ts";
export { listApps, REPO_ROOT } from "./tree.ts";
export { checkWorkerTypes, type WorkerTypesCheck } from "./worker-types.ts";
