import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['audit-per-issuance', 'audit-visibility', 'audit-wiring']);
