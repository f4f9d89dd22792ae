import { ProviderKind } from '../provider-kind';
import { type VendorDefinition } from '../vendor-definition';
import { FishjamAdapter } from './fishjam.adapter';
import { FishjamCredentialInput } from './fishjam.credential';
import {
  FishjamConnectionOptionsInput,
  FishjamCredentialModel,
  FishjamLivestreamCredentialModel,
  FishjamRoomOptionsInput,
} from './fishjam.graphql';

/** Fishjam: its adapter and the GraphQL types it adds. */
export const FISHJAM: VendorDefinition = {
  kind: ProviderKind.FISHJAM,
  block: 'fishjam',
  adapter: FishjamAdapter,
  credentialInput: { type: FishjamCredentialInput },
  sessionOptions: { type: FishjamRoomOptionsInput, description: 'Fishjam options.' },
  joinOptions: { type: FishjamConnectionOptionsInput, description: 'Fishjam options.' },
  joinCredentialTypes: [FishjamCredentialModel, FishjamLivestreamCredentialModel],
  // A livestream token (viewer or streamer) is not a peer: its own union member.
  joinCredentialType: (c) =>
    typeof c.livestream === 'string' ? FishjamLivestreamCredentialModel : FishjamCredentialModel,
};
