import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['provider-credentials', 'secrets', 'secret-binding']);
