import { ProviderKind } from '../provider-kind';
import { type VendorDefinition } from '../vendor-definition';
import { AgoraAdapter } from './agora.adapter';
import { AgoraCredentialInput } from './agora.credential';
import { AgoraConnectionOptionsInput, AgoraCredentialModel } from './agora.graphql';

/** Agora: its adapter and the GraphQL types it adds. */
export const AGORA: VendorDefinition = {
  kind: ProviderKind.AGORA,
  block: 'agora',
  adapter: AgoraAdapter,
  credentialInput: { type: AgoraCredentialInput },
  joinOptions: { type: AgoraConnectionOptionsInput, description: 'Agora options.' },
  joinCredentialTypes: [AgoraCredentialModel],
  joinCredentialType: () => AgoraCredentialModel,
};
