import { createHash } from 'node:crypto';
import { TokenVerifier } from 'livekit-server-sdk';
import { sameSecret } from '../../common/crypto/compare';
import { type WebhookVerifier } from '../webhook-verifier';

/**
 * LiveKit signs each webhook with a JWT made with the API key and secret whose `sha256` claim is
 * the body's digest: the body is read first, and a delivery whose JWT or digest does not match is
 * refused. A delivery's `id` is its replay key.
 */
export const LIVEKIT_WEBHOOK: WebhookVerifier = {
  signsBody: true,
  async verify(cred, authorization, raw) {
    const token = authorization?.replace(/^Bearer\s+/i, '');
    if (!token) return 'bad_signature';
    try {
      const claims = await new TokenVerifier(
        String(cred.config.apiKey),
        cred.secrets.apiSecret,
      ).verify(token);
      const digest = createHash('sha256').update(raw).digest('base64');
      return typeof claims.sha256 === 'string' && sameSecret(claims.sha256, digest)
        ? null
        : 'bad_signature';
    } catch {
      return 'bad_signature';
    }
  },
  parse(json, raw) {
    const name = typeof json.event === 'string' ? json.event.slice(0, 64) : 'unknown';
    const room = (json.room as { name?: unknown } | undefined)?.name;
    const identity = (json.participant as { identity?: unknown } | undefined)?.identity;
    const id = typeof json.id === 'string' && json.id ? json.id.slice(0, 100) : null;
    const joinOrLeave = name === 'participant_joined' || name === 'participant_left';
    return {
      key: id ? `id:${id}` : `sha256:${createHash('sha256').update(raw).digest('hex')}`,
      name,
      room: typeof room === 'string' ? room : null,
      change:
        name === 'room_finished'
          ? { kind: 'session_ended' }
          : joinOrLeave && typeof identity === 'string'
            ? {
                kind: name === 'participant_joined' ? 'joined' : 'left',
                by: 'identity',
                value: identity,
              }
            : { kind: 'none' },
    };
  },
};
