import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['sessions', 'sessions-recovery', 'join-links', 'smoke']);
