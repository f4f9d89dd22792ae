import { ProviderKind } from '../provider-kind';
import { type VendorDefinition } from '../vendor-definition';
import { LiveKitAdapter } from './livekit.adapter';
import { LiveKitCredentialInput } from './livekit.credential';
import { LiveKitCredentialModel, LiveKitRoomOptionsInput } from './livekit.graphql';

/** LiveKit: its adapter and the GraphQL types it adds. */
export const LIVEKIT: VendorDefinition = {
  kind: ProviderKind.LIVEKIT,
  block: 'livekit',
  adapter: LiveKitAdapter,
  credentialInput: { type: LiveKitCredentialInput },
  sessionOptions: { type: LiveKitRoomOptionsInput, description: 'LiveKit options.' },
  joinCredentialTypes: [LiveKitCredentialModel],
  joinCredentialType: () => LiveKitCredentialModel,
};
