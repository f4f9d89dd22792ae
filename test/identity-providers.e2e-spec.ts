import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['external-jwt', 'oidc', 'saml']);
