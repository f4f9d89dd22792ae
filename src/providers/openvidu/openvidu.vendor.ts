import { ProviderKind } from '../provider-kind';
import { type VendorDefinition } from '../vendor-definition';
import { OpenViduAdapter } from './openvidu.adapter';
import { OpenViduCredentialInput } from './openvidu.credential';
import {
  OpenViduConnectionOptionsInput,
  OpenViduCredentialModel,
  OpenViduSessionOptionsInput,
} from './openvidu.graphql';

/** OpenVidu: its adapter and the GraphQL types it adds. */
export const OPENVIDU: VendorDefinition = {
  kind: ProviderKind.OPENVIDU,
  block: 'openvidu',
  adapter: OpenViduAdapter,
  credentialInput: { type: OpenViduCredentialInput },
  sessionOptions: { type: OpenViduSessionOptionsInput, description: 'OpenVidu 2 options.' },
  joinOptions: { type: OpenViduConnectionOptionsInput, description: 'OpenVidu 2 options.' },
  joinCredentialTypes: [OpenViduCredentialModel],
  joinCredentialType: () => OpenViduCredentialModel,
};
