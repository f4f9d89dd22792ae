import { ProviderKind } from '../provider-kind';
import { type VendorDefinition } from '../vendor-definition';
import { Red5Adapter } from './red5.adapter';
import { Red5CredentialInput } from './red5.credential';
import { Red5CredentialModel } from './red5.graphql';

/** Red5: its adapter and the GraphQL types it adds. */
export const RED5: VendorDefinition = {
  kind: ProviderKind.RED5,
  block: 'red5',
  adapter: Red5Adapter,
  credentialInput: { type: Red5CredentialInput },
  joinCredentialTypes: [Red5CredentialModel],
  joinCredentialType: () => Red5CredentialModel,
};
