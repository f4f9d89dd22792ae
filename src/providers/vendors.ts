import { AGORA } from './agora/agora.vendor';
import { FISHJAM } from './fishjam/fishjam.vendor';
import { LIVEKIT } from './livekit/livekit.vendor';
import { OPENVIDU } from './openvidu/openvidu.vendor';
import { PEXIP } from './pexip/pexip.vendor';
import { RED5 } from './red5/red5.vendor';
import { type VendorDefinition } from './vendor-definition';

/** The vendors Roomkey speaks, each defined in its own folder. */
export const VENDORS: readonly VendorDefinition[] = [
  OPENVIDU,
  LIVEKIT,
  PEXIP,
  AGORA,
  FISHJAM,
  RED5,
];
