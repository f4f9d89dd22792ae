import { ActorType, AuthMethod } from '../common/auth/roles';

/** Who did it, from where. A `RequestContext` is one; so is the system actor of the CLI. */
export interface AuditActor {
  tenantId: string | null;
  actorType: ActorType;
  actorId: string | null;
  actorLabel: string;
  authMethod: AuthMethod;
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
}

export function systemActor(requestId: string | null = null): AuditActor {
  return {
    tenantId: null,
    actorType: ActorType.SYSTEM,
    actorId: null,
    actorLabel: 'system',
    authMethod: AuthMethod.SYSTEM,
    requestId,
    clientIp: null,
    userAgent: null,
  };
}
