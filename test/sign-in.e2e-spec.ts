import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['auth-basic', 'jwt', 'refresh-tokens', 'cookie-sessions']);
