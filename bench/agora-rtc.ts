/**
 * The Agora token service sample's RTC handler (AgoraIO-Community/agora-token-service), without a
 * framework: what bench/agora-sample.ts serves on Express 5, and what `npm run bench:floor` serves
 * on every other stack, so that only the framework differs between them.
 *
 * Like the sample: `publisher` is a publisher and anything else a subscriber; `expiry` is seconds
 * (default 3600, digits only; anything but one string is the default, as Express's query parser
 * gives an array for a repeated key); tokenType `uid` (a number, truncated to 32 bits as the
 * sample's Go code does) or `userAccount`; the sample's two 400 shapes. Expiries are passed to
 * `agora-token` as seconds from now, as Roomkey's adapter does, so both mint the same token.
 */
import { RtcRole, RtcTokenBuilder } from 'agora-token';

/** The GraphQL floors' request (bench/framework-floor-graphql.ts): the same token as a mutation. */
export const RTC_MUTATION =
  'mutation { rtcToken(input: {channelName: "bench-channel", role: "publisher", uid: 42, expiry: 600}) { rtcToken } }';

/** The sample's headers on every answer. */
export const NO_CACHE = {
  'Cache-Control': 'private, no-cache, no-store, must-revalidate',
  Expires: '-1',
  Pragma: 'no-cache',
};

export interface RtcParams {
  channelName: string;
  role: string;
  tokenType: string;
  uid: string;
}

export interface RtcAnswer {
  status: 200 | 400;
  body: Record<string, unknown>;
}

/** GET /rtc/:channelName/:role/:tokenType/:uid/?expiry — `expiry` as the framework parsed it. */
export function rtcAnswer(
  appId: string,
  appCertificate: string,
  params: RtcParams,
  expiryQuery: unknown,
): RtcAnswer {
  const { channelName, role, tokenType } = params;
  const uid = params.uid || '0';
  const rtcRole = role === 'publisher' ? RtcRole.PUBLISHER : RtcRole.SUBSCRIBER;
  const expiryText = typeof expiryQuery === 'string' ? expiryQuery : '3600';
  if (!/^\d{1,19}$/.test(expiryText)) {
    return {
      status: 400,
      body: {
        message: `Error Generating RTC token: failed to parse expireTime: ${expiryText}`,
        status: 400,
      },
    };
  }
  const expiry = Number(expiryText);
  let token: string;
  if (tokenType === 'userAccount') {
    token = RtcTokenBuilder.buildTokenWithUserAccount(
      appId,
      appCertificate,
      channelName,
      uid,
      rtcRole,
      expiry,
      expiry,
    );
  } else if (tokenType === 'uid' && /^\d{1,19}$/.test(uid)) {
    token = RtcTokenBuilder.buildTokenWithUid(
      appId,
      appCertificate,
      channelName,
      Number(BigInt(uid) & 0xffffffffn),
      rtcRole,
      expiry,
      expiry,
    );
  } else {
    const why =
      tokenType === 'uid'
        ? `failed to parse uidStr: ${uid}, to uint`
        : `failed to generate RTC token for Unknown Tokentype: ${tokenType}`;
    return { status: 400, body: { status: 400, error: `Error Generating RTC token - ${why}` } };
  }
  return { status: 200, body: { rtcToken: token } };
}
