import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['members', 'tenancy', 'isolation', 'roles-coverage', 'api-keys']);
