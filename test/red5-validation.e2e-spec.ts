import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['red5', 'red5-admission', 'red5-lane']);
