import { runCaseFiles } from './helpers/case-files';

runCaseFiles(['dropin-agora', 'dropin-openvidu', 'webhooks']);
