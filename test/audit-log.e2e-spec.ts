import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['audit-chain', 'audit-read', 'audit-text']);
