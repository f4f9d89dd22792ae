import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['demo', 'database-faults', 'cache-invalidation', 'rate-limits-redis']);
