/**
 * Roomkey as a drop-in for the Agora token service (AgoraIO-Community/agora-token-service, Go):
 * the request sequences its own tests send (service/endpoints_test.go) and VideoUIKit's token
 * calls, replayed over real HTTP against `/t/:slug/agora`. Every token is read back with
 * `agora-token`'s own AccessToken2 parser and its services and privileges compared exactly — RTM
 * tokens carry the service's stream-channel grant (RTC join + publish data on the channel, for the
 * RTM user) on `/rte/` and on getToken with a channel, and nowhere else; Chat tokens carry the user
 * or the app privilege. Every answer (200, 400, 401, 403, 404) carries the service's no-cache
 * headers; every token issued writes exactly one audit event, every refusal one `compat.called`.
 * Roomkey's deliberate differences are named where a row differs from the service.
 */
import { randomBytes } from 'node:crypto';
import {
  AccessToken2,
  ServiceChat,
  ServiceRtc,
  ServiceRtm,
  type Service,
} from 'agora-token/src/AccessToken2';
import { AGORA_CHANNEL } from '../src/providers/names';
import { uniq } from './helpers/assertions';
import { type AuditRow, auditRows } from './helpers/audit';
import { errorCode } from './helpers/test-app';
import {
  CREATE_SESSION,
  type SessionJson,
  type VendorWorld,
  ok,
  startVendorWorld,
  AGORA_NO_CACHE,
} from './helpers/vendors';

const NO_CACHE = AGORA_NO_CACHE;
const EXPIRY_ERROR = 'expiry must be a whole number of seconds from 1 to 86400';
const UID_ERROR = 'uid must be an integer 0..4294967295';
const CHAT_USER_ERROR = 'may only contain a-z A-Z 0-9 _ - .';
const SIGN_IN = new Set(['auth.login.succeeded', 'auth.succeeded.summary']);

/** One service of a token as `agora-token` parses it: its kind, names and privileges. */
interface Grant {
  service: 'rtc' | 'rtm' | 'chat';
  channel?: string;
  user: string;
  /** privilege id → seconds from the issue time */
  privileges: Record<number, number>;
}

const text = (v: string | Buffer): string => (typeof v === 'string' ? v : v.toString('utf8'));

/** RTC token: join (1), and publish audio, video and data (2, 3, 4) for a publisher. */
const rtc = (channel: string, user: string, ttl: number, publisher: boolean): Grant => ({
  service: 'rtc',
  channel,
  user,
  privileges: publisher ? { 1: ttl, 2: ttl, 3: ttl, 4: ttl } : { 1: ttl },
});
/** The token service's stream-channel grant in an RTM token: join (1) and publish data (4). */
const stream = (channel: string, user: string, ttl: number): Grant => ({
  service: 'rtc',
  channel,
  user,
  privileges: { 1: ttl, 4: ttl },
});
const rtmLogin = (user: string, ttl: number): Grant => ({
  service: 'rtm',
  user,
  privileges: { 1: ttl },
});
const chatUser = (user: string, ttl: number): Grant => ({
  service: 'chat',
  user,
  privileges: { 1: ttl },
});
const chatApp = (ttl: number): Grant => ({ service: 'chat', user: '', privileges: { 2: ttl } });

/** A reply's tokens, by JSON key, and what each must grant. */
type Tokens = Record<string, Grant[]>;

/**
 * One request of a client sequence. `upstream` is the status the token service answers (its own
 * tests say so); `status` is Roomkey's when it deliberately differs, with `why`.
 */
interface Step {
  name: string;
  method: 'GET' | 'POST';
  /** After `/t/:slug/agora`. */
  path: string;
  body?: Record<string, unknown>;
  /** Send the body form-encoded (Dart's `http.post` with a Map, as VideoUIKit Flutter does). */
  form?: boolean;
  upstream: number;
  status?: number;
  why?: string;
  /** 200: the body's keys and each token's grants. */
  tokens?: Tokens;
  /** The exact body of a refusal (without `status`, added here). */
  error?: Record<string, string>;
  /** 200: the issuance events, in order (session.created aside). */
  issues?: string[];
}

const RTM = 'agora.rtm_token.issued';
const CHAT = 'agora.chat_token.issued';
const CONN = 'connection.created';

// The token service's own tests (service/endpoints_test.go), in their order.
// prettier-ignore
const UPSTREAM_TESTS: Step[] = [
  // TestGetTokenValidAndInvalid
  { name: 'getToken rtc with a user account', method: 'POST', path: '/getToken', body: { tokenType: 'rtc', channel: 'channel123', role: 'publisher', uid: 'user123', expire: 3600 }, upstream: 200, tokens: { token: [rtc('channel123', 'user123', 3600, true)] }, issues: [CONN] },
  { name: 'getToken rtm without a channel', method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'user456', expire: 1800 }, upstream: 200, tokens: { token: [rtmLogin('user456', 1800)] }, issues: [RTM] },
  { name: 'getToken rtm with a channel', method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'user456', expire: 1800, channel: 'test' }, upstream: 200, tokens: { token: [stream('test', 'user456', 1800), rtmLogin('user456', 1800)] }, issues: [RTM] },
  { name: 'getToken chat for a user', method: 'POST', path: '/getToken', body: { tokenType: 'chat', uid: 'user789', expire: 900 }, upstream: 200, tokens: { token: [chatUser('user789', 900)] }, issues: [CHAT] },
  { name: 'getToken without a tokenType', method: 'POST', path: '/getToken', body: { channel: 'channel456', role: 'subscriber', expire: 1800 }, upstream: 400, error: { error: 'Unsupported tokenType (use rtc, rtm or chat)' } },
  { name: 'getToken with an unknown tokenType', method: 'POST', path: '/getToken', body: { tokenType: 'invalid_type', channel: 'channel789', role: 'publisher', uid: 'user123', expire: 3600 }, upstream: 400, error: { error: 'Unsupported tokenType (use rtc, rtm or chat)' } },
  { name: 'getToken rtc without a channel', method: 'POST', path: '/getToken', body: { tokenType: 'rtc', role: 'publisher', uid: 'user123', expire: 3600 }, upstream: 400, error: { error: 'missing channel name' } },
  { name: 'getToken rtm without a uid', method: 'POST', path: '/getToken', body: { tokenType: 'rtm', expire: 1800 }, upstream: 400, error: { error: 'missing user ID or account' } },
  { name: 'getToken with an empty body', method: 'POST', path: '/getToken', upstream: 400, error: { error: 'Unsupported tokenType (use rtc, rtm or chat)' } },
  { name: 'getToken chat without a uid (the app token)', method: 'POST', path: '/getToken', body: { tokenType: 'chat' }, upstream: 200, tokens: { token: [chatApp(3600)] }, issues: [CHAT] },
  { name: 'getToken chat with a uid and no expire', method: 'POST', path: '/getToken', body: { tokenType: 'chat', uid: 'user123' }, upstream: 200, tokens: { token: [chatUser('user123', 3600)] }, issues: [CHAT] },
  // TestRtcValidAndInvalid
  { name: 'rtc uid 0', method: 'GET', path: '/rtc/fsda/publisher/uid/0/?expiry=600', upstream: 200, tokens: { rtcToken: [rtc('fsda', '', 600, true)] }, issues: [CONN] },
  { name: 'rtc with an empty uid segment', method: 'GET', path: '/rtc/fsda/publisher/uid//?expiry=600', upstream: 200, tokens: { rtcToken: [rtc('fsda', '', 600, true)] }, issues: [CONN] },
  { name: 'rtc uid test', method: 'GET', path: '/rtc/fsda/publisher/uid/test/?expiry=600', upstream: 400, error: { error: `Error Generating RTC token - ${UID_ERROR}` } },
  { name: 'rtc expiry failing', method: 'GET', path: '/rtc/fsda/publisher/uid/0/?expiry=failing', upstream: 400, error: { message: `Error Generating RTC token: ${EXPIRY_ERROR}` } },
  // TestRtmValidAndInvalid
  { name: 'rtm for username', method: 'GET', path: '/rtm/username/?expiry=600', upstream: 200, tokens: { rtmToken: [rtmLogin('username', 600)] }, issues: [RTM] },
  { name: 'rtm for 0', method: 'GET', path: '/rtm/0/?expiry=600', upstream: 400, error: { error: 'Error Generating RTM token - An RTM user id must not be 0' } },
  // TestChatValidAndInvalid
  { name: 'chat app', method: 'GET', path: '/chat/app/', upstream: 200, tokens: { chatToken: [chatApp(3600)] }, issues: [CHAT] },
  { name: 'chat account username', method: 'GET', path: '/chat/account/username/', upstream: 200, tokens: { chatToken: [chatUser('username', 3600)] }, issues: [CHAT] },
  { name: 'chat account without an id', method: 'GET', path: '/chat/account/', upstream: 404 },
  { name: 'chat of an unknown kind', method: 'GET', path: '/chat/invalid/', upstream: 404 },
  { name: 'chat account username with expiry 600', method: 'GET', path: '/chat/account/username/?expiry=600', upstream: 200, tokens: { chatToken: [chatUser('username', 600)] }, issues: [CHAT] },
  { name: 'chat account username with expiry fail', method: 'GET', path: '/chat/account/username/?expiry=fail', upstream: 400, error: { message: `Error Generating Chat token: ${EXPIRY_ERROR}` } },
  // TestRteValidAndInvalid
  { name: 'rte publisher uid 0 and rtmid', method: 'GET', path: '/rte/channelName/publisher/uid/0/rtmid/?expiry=600', upstream: 200, tokens: { rtcToken: [rtc('channelName', '', 600, true)], rtmToken: [stream('channelName', 'rtmid', 600), rtmLogin('rtmid', 600)] }, issues: [CONN, RTM] },
  { name: 'rte publisher uid 2345', method: 'GET', path: '/rte/channelName/publisher/uid/2345/?expiry=600', upstream: 200, tokens: { rtcToken: [rtc('channelName', '2345', 600, true)], rtmToken: [stream('channelName', '2345', 600), rtmLogin('2345', 600)] }, issues: [CONN, RTM] },
  { name: 'rte subscriber uid 0 and rtmid', method: 'GET', path: '/rte/channelName/subscriber/uid/0/rtmid/?expiry=600', upstream: 200, tokens: { rtcToken: [rtc('channelName', '', 600, false)], rtmToken: [stream('channelName', 'rtmid', 600), rtmLogin('rtmid', 600)] }, issues: [CONN, RTM] },
  { name: 'rte subscriber uid 2345', method: 'GET', path: '/rte/channelName/subscriber/uid/2345/?expiry=600', upstream: 200, tokens: { rtcToken: [rtc('channelName', '2345', 600, false)], rtmToken: [stream('channelName', '2345', 600), rtmLogin('2345', 600)] }, issues: [CONN, RTM] },
  { name: 'rte uid 0 without an rtm id', method: 'GET', path: '/rte/channelName/publisher/uid/0/?expiry=600', upstream: 400, error: { message: 'Error Generating RTC and RTM token: The RTM user id cannot be empty or "0"' } },
  { name: 'rte expiry failing', method: 'GET', path: '/rte/channelName/publisher/uid/2345/?expiry=failing', upstream: 400, error: { message: `Error Generating RTC and RTM token: ${EXPIRY_ERROR}` } },
  // TestPingPong
  { name: 'ping', method: 'GET', path: '/ping', upstream: 200, issues: [] },
  // TestTokentypes
  { name: 'rtc tokenType uid', method: 'GET', path: '/rtc/fsda/publisher/uid/0/', upstream: 200, tokens: { rtcToken: [rtc('fsda', '', 3600, true)] }, issues: [CONN] },
  { name: 'rtc tokenType userAccount 0', method: 'GET', path: '/rtc/fsda/publisher/userAccount/0/', upstream: 200, status: 400, why: 'a user account of "0" is refused (README "Deliberate differences")', error: { error: 'Error Generating RTC token - userAccount must not be empty or 0' } },
  { name: 'rtc tokenType nonsense', method: 'GET', path: '/rtc/fsda/publisher/nonsense/0/', upstream: 400, error: { error: 'Error Generating RTC token - tokenType must be uid or userAccount' } },
];

// VideoUIKit's token calls: Flutter's `getToken` (GET rtc, no trailing slash) and its newer
// `getRtcToken` / `getRtmToken` (POST /getToken with a form-encoded Map body).
// prettier-ignore
const VIDEO_UIKIT: Step[] = [
  { name: 'Flutter getToken', method: 'GET', path: '/rtc/uikit-room/publisher/uid/1234', upstream: 200, tokens: { rtcToken: [rtc('uikit-room', '1234', 3600, true)] }, issues: [CONN] },
  { name: 'Flutter getRtcToken', method: 'POST', path: '/getToken', form: true, body: { tokenType: 'rtc', channel: 'uikit-room', role: 'publisher', uid: '1234', expire: '3600' }, upstream: 200, tokens: { token: [rtc('uikit-room', '1234', 3600, true)] }, issues: [CONN] },
  { name: 'Flutter getRtmToken', method: 'POST', path: '/getToken', form: true, body: { tokenType: 'rtm', channel: 'uikit-room', uid: '1234', expire: '3600' }, upstream: 200, tokens: { token: [stream('uikit-room', '1234', 3600), rtmLogin('1234', 3600)] }, issues: [RTM] },
];

// What else the service answers: the README's getToken forms, the empty uid segment elsewhere.
// prettier-ignore
const MORE: Step[] = [
  { name: 'getToken rtm with the * wildcard channel', method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'wild', channel: '*' }, upstream: 200, tokens: { token: [stream('*', 'wild', 3600), rtmLogin('wild', 3600)] }, issues: [RTM] },
  { name: 'getToken rtm with an empty channel', method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'plain', channel: '' }, upstream: 200, tokens: { token: [rtmLogin('plain', 3600)] }, issues: [RTM] },
  { name: 'getToken chat with an empty uid (the app token)', method: 'POST', path: '/getToken', body: { tokenType: 'chat', uid: '', expire: 60 }, upstream: 200, tokens: { token: [chatApp(60)] }, issues: [CHAT] },
  { name: 'getToken chat with a numeric uid', method: 'POST', path: '/getToken', body: { tokenType: 'chat', uid: 42 }, upstream: 400, status: 200, why: 'a JSON number uid is taken as its digits, as on the rtc and rtm token types', tokens: { token: [chatUser('42', 3600)] }, issues: [CHAT] },
  { name: 'rtc with an empty uid segment and no expiry', method: 'GET', path: '/rtc/empty-uid/subscriber/uid//', upstream: 200, tokens: { rtcToken: [rtc('empty-uid', '', 3600, false)] }, issues: [CONN] },
  { name: 'rtc userAccount with an empty uid segment', method: 'GET', path: '/rtc/empty-uid/publisher/userAccount//', upstream: 200, status: 400, why: 'the empty account becomes "0", which is refused', error: { error: 'Error Generating RTC token - userAccount must not be empty or 0' } },
  { name: 'rte with an empty rtc uid segment and an rtm id', method: 'GET', path: '/rte/empty-rte/publisher/uid//bob/?expiry=300', upstream: 200, tokens: { rtcToken: [rtc('empty-rte', '', 300, true)], rtmToken: [stream('empty-rte', 'bob', 300), rtmLogin('bob', 300)] }, issues: [CONN, RTM] },
  { name: 'rte with an empty rtc uid segment and no rtm id', method: 'GET', path: '/rte/empty-rte/publisher/uid//', upstream: 400, error: { message: 'Error Generating RTC and RTM token: The RTM user id cannot be empty or "0"' } },
  { name: 'rte with a user account and no rtm id', method: 'GET', path: '/rte/acct-rte/2/userAccount/carol', upstream: 200, tokens: { rtcToken: [rtc('acct-rte', 'carol', 3600, false)], rtmToken: [stream('acct-rte', 'carol', 3600), rtmLogin('carol', 3600)] }, issues: [CONN, RTM] },
  { name: 'chat account without the trailing slash', method: 'GET', path: '/chat/account/Ada.L-1_x', upstream: 301, status: 200, why: 'both forms answer, as on every route', tokens: { chatToken: [chatUser('Ada.L-1_x', 3600)] }, issues: [CHAT] },
];

// Bad input for every parameter: the exact body, one `compat.called`, nothing issued.
// prettier-ignore
const BAD_INPUT: Array<[string, Omit<Step, 'name' | 'upstream'> & { status: number }]> = [
  ['rtc role', { method: 'GET', path: '/rtc/c/owner/uid/1/', status: 400, error: { message: 'Error Generating RTC token: role must be one of publisher, 1, subscriber, 2' } }],
  ['rtc channelName', { method: 'GET', path: '/rtc/a%2Fb/publisher/uid/1/', status: 400, error: { message: `Error Generating RTC token: channelName ${AGORA_CHANNEL.describe}` } }],
  ['rtc uid', { method: 'GET', path: '/rtc/c/publisher/uid/4294967296/', status: 400, error: { error: `Error Generating RTC token - ${UID_ERROR}` } }],
  ['rtc expiry', { method: 'GET', path: '/rtc/c/publisher/uid/1/?expiry=86401', status: 400, error: { message: `Error Generating RTC token: ${EXPIRY_ERROR}` } }],
  ['rtc credential', { method: 'GET', path: '/rtc/c/publisher/uid/1/?credential=x', status: 400, error: { message: 'Error Generating RTC token: credential must be a credential id (UUID)' } }],
  ['rtm uid', { method: 'GET', path: '/rtm/%20bob/', status: 400, error: { error: 'Error Generating RTM token - uid must be printable ASCII and not start with a space' } }],
  ['rtm expiry', { method: 'GET', path: '/rtm/bob/?expiry=0x10', status: 400, error: { message: `Error Generating RTM token: ${EXPIRY_ERROR}` } }],
  ['rtm credential', { method: 'GET', path: '/rtm/bob/?credential=00000000-0000-4000-8000-000000000000', status: 404, error: { error: 'Error Generating RTM token - Provider credential not found' } }],
  ['rte role', { method: 'GET', path: '/rte/c/audience/uid/5/bob/', status: 400, error: { message: 'Error Generating RTC and RTM token: role must be one of publisher, 1, subscriber, 2' } }],
  ['rte tokenType', { method: 'GET', path: '/rte/c/publisher/nonsense/5/bob/', status: 400, error: { error: 'Error Generating RTC and RTM token - tokenType must be uid or userAccount' } }],
  ['rte rtcuid', { method: 'GET', path: '/rte/c/publisher/uid/-1/bob/', status: 400, error: { error: `Error Generating RTC and RTM token - ${UID_ERROR}` } }],
  ['rte rtmuid', { method: 'GET', path: '/rte/c/publisher/uid/5/0/', status: 400, error: { error: 'Error Generating RTC and RTM token - An RTM user id must not be 0' } }],
  ['rte expiry', { method: 'GET', path: '/rte/c/publisher/uid/5/bob/?expiry=-5', status: 400, error: { message: `Error Generating RTC and RTM token: ${EXPIRY_ERROR}` } }],
  ['chat chatid', { method: 'GET', path: '/chat/account/ada@example.com/', status: 400, error: { message: `Error Generating Chat token: chatid ${CHAT_USER_ERROR}` } }],
  ['chat chatid length', { method: 'GET', path: `/chat/account/${'u'.repeat(65)}/`, status: 400, error: { message: 'Error Generating Chat token: chatid must be at most 64 bytes (UTF-8)' } }],
  ['chat app expiry', { method: 'GET', path: '/chat/app/?expiry=86401', status: 400, error: { message: `Error Generating Chat token: ${EXPIRY_ERROR}` } }],
  ['chat app credential', { method: 'GET', path: '/chat/app/?credential=nope', status: 400, error: { message: 'Error Generating Chat token: credential must be a credential id (UUID)' } }],
  ['getToken tokenType', { method: 'POST', path: '/getToken', body: { tokenType: 'CHAT' }, status: 400, error: { error: 'Unsupported tokenType (use rtc, rtm or chat)' } }],
  ['getToken body', { method: 'POST', path: '/getToken', body: ['rtm'] as unknown as Record<string, unknown>, status: 400, error: { error: 'The body must be a JSON object' } }],
  ['getToken rtm channel type', { method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'bob', channel: 5 }, status: 400, error: { error: 'channel must be a string' } }],
  ['getToken rtm channel name', { method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'bob', channel: 'a/b' }, status: 400, error: { error: `channel ${AGORA_CHANNEL.describe}` } }],
  ['getToken rtm channel wildcard inside a name', { method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'bob', channel: 'room*' }, status: 400, error: { error: `channel ${AGORA_CHANNEL.describe}` } }],
  ['getToken rtm channel length', { method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'bob', channel: 'c'.repeat(64) }, status: 400, error: { error: 'channel must be at most 63 bytes (UTF-8)' } }],
  ['getToken rtm uid', { method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: '0', channel: 'c' }, status: 400, error: { error: 'An RTM user id must not be 0' } }],
  ['getToken rtc channel', { method: 'POST', path: '/getToken', body: { tokenType: 'rtc', uid: '1', channel: 'caf\u00e9' }, status: 400, error: { error: `channel ${AGORA_CHANNEL.describe}` } }],
  ['rte channelName', { method: 'GET', path: `/rte/${'c'.repeat(64)}/publisher/uid/5/bob/`, status: 400, error: { message: 'Error Generating RTC and RTM token: channelName must be at most 63 bytes (UTF-8)' } }],
  ['getToken rtm expire', { method: 'POST', path: '/getToken', body: { tokenType: 'rtm', uid: 'bob', channel: 'c', expire: 1.5 }, status: 400, error: { error: EXPIRY_ERROR } }],
  ['getToken chat uid', { method: 'POST', path: '/getToken', body: { tokenType: 'chat', uid: 'ada lovelace' }, status: 400, error: { error: `uid ${CHAT_USER_ERROR}` } }],
  ['getToken chat uid type', { method: 'POST', path: '/getToken', body: { tokenType: 'chat', uid: true }, status: 400, error: { error: 'uid must be a string' } }],
  ['getToken chat expire', { method: 'POST', path: '/getToken', body: { tokenType: 'chat', expire: 86401 }, status: 400, error: { error: EXPIRY_ERROR } }],
  ['getToken credential', { method: 'POST', path: '/getToken?credential=x', body: { tokenType: 'chat' }, status: 400, error: { error: 'credential must be a credential id (UUID)' } }],
];

describe('Agora token service drop-in (/t/:slug/agora)', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w?.close());

  const base = (): string => `/t/${w.a.tenant.slug}/agora`;

  function send(
    step: Pick<Step, 'method' | 'path' | 'body' | 'form'>,
    auth: string | null = w.a.adminKey,
    requestId = `dropin-${randomBytes(6).toString('hex')}`,
  ) {
    const url = `${base()}${step.path}`;
    let req = step.method === 'GET' ? w.t.http().get(url) : w.t.http().post(url);
    req = req.set('x-request-id', requestId);
    if (auth) req = req.set('authorization', auth);
    if (step.form) req = req.type('form');
    else if (step.method === 'POST') req = req.set('content-type', 'application/json');
    return step.body === undefined ? req : req.send(step.body);
  }

  /** Every service of the token, as `agora-token`'s own AccessToken2 parser reads it. */
  function grantsOf(token: string): { expire: number; appId: string; grants: Grant[] } {
    const t = new AccessToken2();
    expect(t.from_string(token)).toBe(true);
    expect(t.verifySignature(w.secrets.agoraCertificate)).toBe(true);
    const grants = t.services.map((s: Service): Grant => {
      const privileges = Object.fromEntries(
        Object.entries(s.__privileges).map(([k, v]) => [Number(k), v]),
      );
      if (s instanceof ServiceRtc)
        return { service: 'rtc', channel: text(s.__channel_name), user: text(s.__uid), privileges };
      if (s instanceof ServiceRtm) return { service: 'rtm', user: text(s.__user_id), privileges };
      if (s instanceof ServiceChat) return { service: 'chat', user: text(s.__user_id), privileges };
      throw new Error(`unexpected service type ${s.service_type()}`);
    });
    return { expire: t.expire, appId: text(t.appId), grants };
  }

  /** The request's audit events, in chain order, sign-ins aside. */
  async function eventsOf(requestId: string): Promise<AuditRow[]> {
    return (await auditRows(w.t, { requestId })).filter((r) => !SIGN_IN.has(r.action));
  }

  /** A step's answer: status, headers, body, tokens and audit events, all checked. */
  async function replay(step: Omit<Step, 'name' | 'upstream'> & { upstream?: number }) {
    const requestId = `dropin-${randomBytes(6).toString('hex')}`;
    const res = await send(step, w.a.adminKey, requestId);
    const status = step.status ?? step.upstream;
    expect({ status: res.status, text: res.text }).toMatchObject({ status });
    expect(res.headers).toMatchObject(NO_CACHE);
    const events = await eventsOf(requestId);
    if (status === 200) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      if (step.tokens) {
        expect(Object.keys(res.body as object).sort()).toEqual(Object.keys(step.tokens).sort());
        for (const [key, grants] of Object.entries(step.tokens)) {
          const parsed = grantsOf(String((res.body as Record<string, unknown>)[key]));
          expect(parsed.appId).toBe(w.secrets.agoraAppId);
          expect(parsed.expire).toBe(Object.values(grants[0].privileges)[0]);
          expect(parsed.grants).toEqual(grants);
        }
      }
      // Exactly one event per token issued (the channel's session.created aside), nothing else.
      expect(events.filter((e) => e.action !== 'session.created').map((e) => e.action)).toEqual(
        step.issues ?? [],
      );
      for (const e of events) expect(e.outcome).toBe('SUCCESS');
    } else if (status === 400 || status === 403 || (status === 404 && step.error)) {
      expect(res.body).toEqual({ ...step.error, status });
      expect(events.map((e) => [e.action, e.outcome])).toEqual([
        ['compat.called', status === 403 ? 'DENIED' : 'FAILURE'],
      ]);
    } else {
      // No route: nothing ran, nothing issued.
      expect(res.headers['x-roomkey-error-code']).toBe('NOT_FOUND');
      expect(events).toEqual([]);
    }
    return res;
  }

  const labelled = (steps: Step[]): Array<[string, Step]> =>
    steps.map((s) => [
      `${s.name} (${s.method} ${s.path}) answers ${s.status ?? s.upstream}${
        s.why ? ` where the service answers ${s.upstream}: ${s.why}` : ''
      }`,
      s,
    ]);

  describe("replaying the token service's own tests", () => {
    it.each(labelled(UPSTREAM_TESTS))('should answer as the service does: %s', async (_l, step) => {
      await replay(step);
    });

    it('should answer every row of the table', () => {
      // 11 getToken, 4 rtc, 2 rtm, 6 chat, 6 rte, 1 ping, 3 tokentype cases, as upstream has.
      expect(UPSTREAM_TESTS).toHaveLength(33);
    });
  });

  describe("replaying VideoUIKit's token calls", () => {
    it.each(labelled(VIDEO_UIKIT))('should answer %s', async (_l, step) => {
      await replay(step);
    });
  });

  describe('the rest of the service', () => {
    it.each(labelled(MORE))('should answer %s', async (_l, step) => {
      await replay(step);
    });
  });

  describe('bad input', () => {
    it.each(BAD_INPUT)(
      'should refuse a bad %s with the exact body, no-cache headers, one compat.called and no token',
      async (_l, step) => {
        await replay(step);
      },
    );
  });

  describe('Chat app tokens', () => {
    it.each([
      [
        'GET /chat/app/',
        { method: 'GET', path: '/chat/app/' },
        { error: 'Error Generating Chat token: Only OWNER or ADMIN can issue Chat app tokens' },
      ],
      [
        'getToken chat without a uid',
        { method: 'POST', path: '/getToken', body: { tokenType: 'chat' } },
        { error: 'Only OWNER or ADMIN can issue Chat app tokens' },
      ],
    ] as Array<[string, Pick<Step, 'method' | 'path' | 'body'>, Record<string, string>]>)(
      "should answer 403 to a MEMBER and issue nothing when %s asks for the app token (the Chat app's admin privilege)",
      async (_l, step, error) => {
        const requestId = `dropin-member-${uniq()}`;
        const res = await send(step, w.a.memberKey, requestId);
        expect(res.status).toBe(403);
        expect(res.headers).toMatchObject(NO_CACHE);
        expect(res.headers['x-roomkey-error-code']).toBe('FORBIDDEN');
        expect(res.body).toEqual({ ...error, status: 403 });
        expect((await eventsOf(requestId)).map((e) => [e.action, e.outcome])).toEqual([
          ['compat.called', 'DENIED'],
        ]);
      },
    );

    it('should give a MEMBER a Chat user token', async () => {
      const res = await send({ method: 'GET', path: '/chat/account/member-1/' }, w.a.memberKey);
      expect(res.status).toBe(200);
      expect(grantsOf(String(res.body.chatToken)).grants).toEqual([chatUser('member-1', 3600)]);
    });
  });

  describe('the audit event of each token', () => {
    it.each([
      [
        'an RTM token with a stream channel',
        {
          method: 'POST',
          path: '/getToken',
          body: { tokenType: 'rtm', uid: 'eve', channel: 'ops' },
        },
        { action: RTM, metadata: { userId: 'eve', streamChannel: 'ops', route: 'agora.getToken' } },
      ],
      [
        'an RTM token without one',
        { method: 'GET', path: '/rtm/eve/' },
        { action: RTM, metadata: { userId: 'eve', streamChannel: null, route: 'agora.rtm' } },
      ],
      [
        'the RTM half of rte',
        { method: 'GET', path: '/rte/ops-rte/publisher/uid/9/eve/' },
        { action: RTM, metadata: { userId: 'eve', streamChannel: 'ops-rte', route: 'agora.rte' } },
      ],
      [
        'a Chat user token',
        { method: 'GET', path: '/chat/account/eve/' },
        { action: CHAT, metadata: { scope: 'user', userId: 'eve', route: 'agora.chat' } },
      ],
      [
        'the Chat app token',
        { method: 'POST', path: '/getToken', body: { tokenType: 'chat' } },
        { action: CHAT, metadata: { scope: 'app', userId: null, route: 'agora.getToken' } },
      ],
    ] as Array<
      [
        string,
        Pick<Step, 'method' | 'path' | 'body'>,
        { action: string; metadata: Record<string, unknown> },
      ]
    >)(
      'should record %s with its grant, the credential, via and route',
      async (_l, step, expected) => {
        const requestId = `dropin-audit-${uniq()}`;
        const res = await send(step, w.a.adminKey, requestId);
        expect(res.status).toBe(200);
        const [row] = await auditRows(w.t, { requestId, action: expected.action });
        expect(row.target_id).toBe(w.a.creds.AGORA);
        const { metadata } = row;
        expect(metadata).toMatchObject({ ...expected.metadata, via: 'compat.agora' });
        // The token itself is never recorded.
        for (const token of Object.values(res.body as Record<string, string>)) {
          expect(JSON.stringify(metadata)).not.toContain(token.slice(3, 40));
        }
      },
    );
  });

  describe('no-cache headers on refusals', () => {
    const ROUTES: Array<Pick<Step, 'method' | 'path' | 'body'>> = [
      { method: 'GET', path: '/ping' },
      { method: 'GET', path: '/rtc/c/publisher/uid/1' },
      { method: 'GET', path: '/rtc/c/publisher/uid//' },
      { method: 'GET', path: '/rtm/bob/' },
      { method: 'GET', path: '/rte/c/publisher/uid/1/bob/' },
      { method: 'GET', path: '/chat/app/' },
      { method: 'GET', path: '/chat/account/bob/' },
      { method: 'POST', path: '/getToken', body: { tokenType: 'chat', uid: 'bob' } },
    ];

    it.each(ROUTES.map((r): [string, typeof r] => [`${r.method} ${r.path}`, r]))(
      'should answer 401 with the no-cache headers and issue nothing when %s has no credentials',
      async (_l, step) => {
        const requestId = `dropin-401-${uniq()}`;
        const res = await send(step, null, requestId);
        expect(res.status).toBe(401);
        expect(res.headers).toMatchObject(NO_CACHE);
        expect(res.headers['x-roomkey-error-code']).toBe('UNAUTHENTICATED');
        const actions = (await eventsOf(requestId)).map((e) => e.action);
        expect(actions.filter((a) => a === RTM || a === CHAT || a === CONN)).toEqual([]);
      },
    );

    it.each(ROUTES.map((r): [string, typeof r] => [`${r.method} ${r.path}`, r]))(
      "should answer 403 with the no-cache headers when %s names another tenant's slug",
      async (_l, step) => {
        const url = `/t/${w.b.tenant.slug}/agora${step.path}`;
        const req =
          step.method === 'GET' ? w.t.http().get(url) : w.t.http().post(url).send(step.body);
        const res = await req.set('authorization', w.a.adminKey);
        expect(res.status).toBe(403);
        expect(res.headers).toMatchObject(NO_CACHE);
      },
    );

    it.each([
      ['GET', '/chat/account/'],
      ['GET', '/chat/invalid/'],
      ['GET', '/rtc/c/publisher'],
      ['GET', '/rtc/c/publisher/uid/1/2'],
      ['POST', '/rtm/bob/'],
      ['GET', '/getToken'],
      ['GET', '/no-such-route'],
    ])('should answer 404 with the no-cache headers on %s %s', async (method, path) => {
      const res = await send({ method: method as Step['method'], path });
      expect(res.status).toBe(404);
      expect(res.headers).toMatchObject(NO_CACHE);
    });
  });

  describe('through GraphQL', () => {
    const CONNECT = `mutation ($input: CreateConnectionInput!) {
      createConnection(input: $input) {
        id credential { __typename ... on AgoraCredential { token channel uid userAccount rtmToken chatToken } }
      }
    }`;
    let session: SessionJson;

    beforeAll(async () => {
      session = (
        await ok(
          w.t.gql<{ createSession: SessionJson }>(
            CREATE_SESSION,
            { input: { provider: 'AGORA', customSessionId: `gql-${uniq()}` } },
            { auth: w.a.admin.auth },
          ),
        )
      ).createSession;
    });

    type Credential = { rtmToken: string | null; chatToken: string | null; channel: string };
    const connect = (agora: Record<string, unknown>, ttlSeconds = 900) =>
      w.t.gql<{ createConnection: { id: string; credential: Credential } }>(
        CONNECT,
        { input: { sessionId: session.id, ttlSeconds, agora } },
        { auth: w.a.member.auth, headers: { 'x-request-id': `dropin-gql-${uniq()}` } },
      );

    it("should grant the session's channel to the RTM token and mint a Chat user token when rtmStreamChannel and chat are set", async () => {
      const r = await connect({ uid: 42, rtm: true, rtmStreamChannel: true, chat: true });
      const credential = (await ok(Promise.resolve(r))).createConnection.credential;
      expect(credential.channel).toBe(session.externalId);
      expect(grantsOf(String(credential.rtmToken)).grants).toEqual([
        stream(session.externalId, '42', 900),
        rtmLogin('42', 900),
      ]);
      expect(grantsOf(String(credential.chatToken)).grants).toEqual([chatUser('42', 900)]);
      const events = await eventsOf(String(r.headers['x-request-id']));
      expect(events.map((e) => e.action)).toEqual([CONN]);
    });

    it('should mint an RTM token without a stream channel and no Chat token when only rtm is set', async () => {
      const credential = (await ok(connect({ userAccount: 'ada', rtm: true }))).createConnection
        .credential;
      expect(grantsOf(String(credential.rtmToken)).grants).toEqual([rtmLogin('ada', 900)]);
      expect(credential.chatToken).toBeNull();
    });

    it.each([
      ['rtmStreamChannel without rtm', { uid: 5, rtmStreamChannel: true }, 'rtmStreamChannel'],
      ['chat for uid 0', { uid: 0, chat: true }, 'chat'],
      [
        'chat for a user account outside Chat’s set',
        { userAccount: 'ada l', chat: true },
        'userAccount',
      ],
    ])('should refuse %s as BAD_USER_INPUT and issue nothing', async (_l, agora, field) => {
      const r = await connect(agora);
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.body.errors?.[0].extensions?.field).toBe(field);
      const events = await eventsOf(String(r.headers['x-request-id']));
      expect(events.map((e) => [e.action, e.outcome])).toEqual([[CONN, 'FAILURE']]);
    });
  });
});
