import { ProviderKind } from '../provider-kind';
import { type VendorDefinition } from '../vendor-definition';
import { PexipAdapter } from './pexip.adapter';
import { PexipCredentialInput } from './pexip.credential';
import { PexipCredentialModel } from './pexip.graphql';

/** Pexip: its adapter and the GraphQL types it adds. */
export const PEXIP: VendorDefinition = {
  kind: ProviderKind.PEXIP,
  block: 'pexip',
  adapter: PexipAdapter,
  credentialInput: { type: PexipCredentialInput },
  joinCredentialTypes: [PexipCredentialModel],
  joinCredentialType: () => PexipCredentialModel,
};
