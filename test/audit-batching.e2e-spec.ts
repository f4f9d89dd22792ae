import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['audit-group-commit', 'auth-success-summary']);
