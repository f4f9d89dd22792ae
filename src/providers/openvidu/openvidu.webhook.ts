import { createHash } from 'node:crypto';
import { sameSecret } from '../../common/crypto/compare';
import { type WebhookVerifier } from '../webhook-verifier';

/**
 * OpenVidu 2 webhooks carry a static header (`OPENVIDU_WEBHOOK_HEADERS`): the credential's
 * webhook secret as a bearer token, compared in constant time before the body is read. Without a
 * stored webhook secret every delivery is refused.
 */
export const OPENVIDU_WEBHOOK: WebhookVerifier = {
  signsBody: false,
  verify(cred, authorization) {
    const expected = cred.secrets.webhookSecret;
    if (!expected) return Promise.resolve('webhook_not_configured');
    const ok = !!authorization && sameSecret(authorization, `Bearer ${expected}`);
    return Promise.resolve(ok ? null : 'bad_signature');
  },
  parse(json, raw) {
    const name = typeof json.event === 'string' ? json.event.slice(0, 64) : 'unknown';
    const connectionId = typeof json.connectionId === 'string' ? json.connectionId : null;
    const joinOrLeave = name === 'participantJoined' || name === 'participantLeft';
    return {
      key: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
      name,
      room: typeof json.sessionId === 'string' ? json.sessionId : null,
      change:
        name === 'sessionDestroyed'
          ? { kind: 'session_ended' }
          : joinOrLeave && connectionId
            ? {
                kind: name === 'participantJoined' ? 'joined' : 'left',
                by: 'externalId',
                value: connectionId,
              }
            : { kind: 'none' },
    };
  },
};
