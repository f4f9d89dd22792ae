import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['graphql-limits', 'graphql-lane', 'rate-limits', 'metrics-domain', 'input-hygiene']);
