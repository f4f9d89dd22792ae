import { registerEnumType } from '@nestjs/graphql';

/**
 * Lifecycle of a VideoSession. CREATING is internal: the row that claims a customSessionId while
 * the vendor call is in flight; it is never listed and never returned.
 */
export enum SessionStatus {
  CREATING = 'CREATING',
  ACTIVE = 'ACTIVE',
  ENDED = 'ENDED',
}

/** The statuses a client can see and filter on. */
export enum VisibleSessionStatus {
  ACTIVE = 'ACTIVE',
  ENDED = 'ENDED',
}
registerEnumType(VisibleSessionStatus, {
  name: 'SessionStatus',
  description: 'ACTIVE until ended through Roomkey or reported finished by the vendor.',
});

/** Lifecycle of a join credential. Expiry is not a status: compare `expiresAt` with now. */
export enum ConnectionStatus {
  ISSUED = 'ISSUED',
  JOINED = 'JOINED',
  LEFT = 'LEFT',
  REVOKED = 'REVOKED',
}
registerEnumType(ConnectionStatus, {
  name: 'ConnectionStatus',
  description:
    'ISSUED when minted, JOINED/LEFT from vendor webhooks, REVOKED by revokeConnection or (Red5) invalidateCredentials.',
});
