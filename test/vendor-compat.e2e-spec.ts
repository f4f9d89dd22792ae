import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['compat', 'dropin-fishjam', 'agora-lane']);
