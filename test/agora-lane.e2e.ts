/**
 * The Agora lane (compat/agora-lane): `GET /t/:slug/agora/rtc/…` is answered on the server's request
 * event, in front of Express and Nest. The route's contract is covered by compat.e2e-spec (its
 * requests reach the lane too); these check that the lane is the one answering, that it answers
 * every outcome exactly as the general path does (compared side by side: a request with an
 * `Origin` header is left to Express), and what it must keep — the request id, the one audit
 * event, the metrics and the access log.
 */
import { type Response } from 'supertest';
import { AgoraLane } from '../src/compat/agora-lane';
import { answerShape, uniq } from './helpers/assertions';
import { AGORA_NO_CACHE, type VendorWorld, startVendorWorld } from './helpers/vendors';
import { httpRequests } from './helpers/metrics';

/** An origin no tenant allows: CORS adds only `Vary: Origin`, and the request goes to Express. */
const FOREIGN_ORIGIN = 'http://not-allowed.test';

describe('Agora lane', () => {
  let w: VendorWorld;
  let served: jest.SpyInstance;

  beforeAll(async () => {
    w = await startVendorWorld();
    // The lane's own entry point once it has taken a request (private; spied on, not replaced).
    served = jest.spyOn(w.t.app.get<AgoraLane, never>(AgoraLane), 'serve');
  });
  afterAll(() => w?.close());
  beforeEach(() => served.mockClear());

  const slug = (): string => w.a.tenant.slug;
  const get = (path: string, auth: string | null = w.a.memberKey, origin?: string) => {
    const r = w.t.http().get(path);
    if (auth) r.set('authorization', auth);
    if (origin) r.set('origin', origin);
    return r;
  };
  const events = (requestId: string) =>
    w.t.ds.query<Array<{ action: string; outcome: string; error_code: string | null }>>(
      `SELECT action, outcome::text AS outcome, error_code FROM audit_event
       WHERE request_id = $1 ORDER BY seq`,
      [requestId],
    );

  it('should mint in the lane, with the channel’s session once and one connection.created per token, when a member calls the RTC route', async () => {
    const channel = `lane-${uniq()}`;
    const r = await get(`/t/${slug()}/agora/rtc/${channel}/publisher/uid/42/?expiry=600`).set(
      'x-request-id',
      'agora-lane-1',
    );
    expect(r.status).toBe(200);
    expect(served).toHaveBeenCalledTimes(1);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['x-request-id']).toBe('agora-lane-1');
    expect(r.headers).toMatchObject(AGORA_NO_CACHE);
    expect(Object.keys(JSON.parse(r.text) as object)).toEqual(['rtcToken']);
    expect(await events('agora-lane-1')).toEqual([
      { action: 'session.created', outcome: 'SUCCESS', error_code: null },
      { action: 'connection.created', outcome: 'SUCCESS', error_code: null },
    ]);
    // The channel's session exists now: the next mint appends its one event and nothing else.
    const again = await get(`/t/${slug()}/agora/rtc/${channel}/subscriber/uid/43`).set(
      'x-request-id',
      'agora-lane-2',
    );
    expect(again.status).toBe(200);
    expect(served).toHaveBeenCalledTimes(2);
    expect(await events('agora-lane-2')).toEqual([
      { action: 'connection.created', outcome: 'SUCCESS', error_code: null },
    ]);
  });

  it('should count the answer under the route pattern and log one line without the query when the lane mints', async () => {
    const labels = {
      method: 'GET',
      route: '/t/:tenantSlug/agora/rtc/:channelName/:role/:tokenType/:uid',
      status: '200',
    };
    const metrics = async (): Promise<string> =>
      (await w.t.http().get('/metrics').set('authorization', w.a.adminKey)).text;
    const before = httpRequests(await metrics(), labels);
    const lines = w.t.logs.length;
    const channel = `lane-log-${uniq()}`;
    const r = await get(`/t/${slug()}/agora/rtc/${channel}/subscriber/uid/7?expiry=900`);
    expect(r.status).toBe(200);
    expect(httpRequests(await metrics(), labels)).toBe(before + 1);
    const written = w.t.logs
      .slice(lines)
      .filter((l) => l.includes(`/agora/rtc/${channel}/`))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(written).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        tenantId: w.a.tenant.id,
        req: expect.objectContaining({
          method: 'GET',
          path: `/t/${slug()}/agora/rtc/${channel}/subscriber/uid/7`,
        }) as unknown,
        res: expect.objectContaining({ statusCode: 200 }) as unknown,
      }),
    ]);
    expect(w.t.logs.slice(lines).join('\n')).not.toContain('rtcToken');
  });

  describe('answers as the general path does', () => {
    const cases: Array<[string, () => { path: string; auth: string | null }]> = [
      ['no credentials', () => ({ path: `/t/${slug()}/agora/rtc/c/publisher/uid/1`, auth: null })],
      [
        'a wrong API key secret',
        () => ({
          path: `/t/${slug()}/agora/rtc/c/publisher/uid/1`,
          auth: `Basic ${Buffer.from('rk_nope:wrong').toString('base64')}`,
        }),
      ],
      [
        'another tenant’s slug',
        () => ({ path: `/t/${w.b.tenant.slug}/agora/rtc/c/publisher/uid/1`, auth: w.a.memberKey }),
      ],
      [
        'an unknown tenant slug',
        () => ({ path: `/t/no-such-tenant/agora/rtc/c/publisher/uid/1`, auth: w.a.memberKey }),
      ],
      ['a bad role', () => ({ path: `/t/${slug()}/agora/rtc/c/owner/uid/1`, auth: w.a.memberKey })],
      [
        'a bad tokenType',
        () => ({ path: `/t/${slug()}/agora/rtc/c/publisher/bogus/1`, auth: w.a.memberKey }),
      ],
      [
        'a uid out of range',
        () => ({ path: `/t/${slug()}/agora/rtc/c/publisher/uid/4294967296`, auth: w.a.memberKey }),
      ],
      [
        'a bad expiry',
        () => ({
          path: `/t/${slug()}/agora/rtc/c/publisher/uid/1?expiry=0x10`,
          auth: w.a.memberKey,
        }),
      ],
      [
        'a repeated expiry',
        () => ({
          path: `/t/${slug()}/agora/rtc/c/publisher/uid/1?expiry=5&expiry=6`,
          auth: w.a.memberKey,
        }),
      ],
      [
        'a credential that is not an id',
        () => ({
          path: `/t/${slug()}/agora/rtc/c/publisher/uid/1?credential=x`,
          auth: w.a.memberKey,
        }),
      ],
      [
        'an unknown credential id',
        () => ({
          path: `/t/${slug()}/agora/rtc/c/publisher/uid/1?credential=00000000-0000-4000-8000-000000000000`,
          auth: w.a.memberKey,
        }),
      ],
      [
        'a userAccount of 0',
        () => ({ path: `/t/${slug()}/agora/rtc/c/publisher/userAccount/0`, auth: w.a.memberKey }),
      ],
    ];

    it.each(cases)(
      'should give the same status, body, headers and audit events as Express when the call has %s',
      async (_what, make) => {
        const { path, auth } = make();
        const laneId = `lane-${uniq()}`;
        const expressId = `express-${uniq()}`;
        const lane = await get(path, auth).set('x-request-id', laneId);
        expect(served).toHaveBeenCalledTimes(1);
        const express = await get(path, auth, FOREIGN_ORIGIN).set('x-request-id', expressId);
        expect(served).toHaveBeenCalledTimes(1); // the second went to Express
        expect(lane.status).toBeGreaterThanOrEqual(400);
        expect(answerShape(lane)).toEqual(answerShape(express));
        const laneBody = JSON.parse(lane.text) as { error?: { requestId?: string } };
        if (laneBody.error?.requestId !== undefined) expect(laneBody.error.requestId).toBe(laneId);
        expect(lane.text).not.toMatch(/rk_nope|wrong/);
        // Every event is committed before its answer is sent.
        expect(await events(laneId)).toEqual(await events(expressId));
      },
    );

    it('should answer a mint the same way, token aside, when Express serves it', async () => {
      const channel = `lane-same-${uniq()}`;
      const path = `/t/${slug()}/agora/rtc/${channel}/publisher/userAccount/alice?expiry=60`;
      const lane = await get(path);
      const express = await get(path, w.a.memberKey, FOREIGN_ORIGIN);
      expect(served).toHaveBeenCalledTimes(1);
      expect(lane.status).toBe(200);
      expect(express.status).toBe(200);
      const keys = (r: Response) => Object.keys(JSON.parse(r.text) as object);
      expect(keys(lane)).toEqual(keys(express));
      expect(lane.headers['cache-control']).toBe(express.headers['cache-control']);
      expect(lane.headers['content-type']).toBe(express.headers['content-type']);
    });
  });

  describe('leaves to Express', () => {
    it.each([
      [
        'HEAD',
        () =>
          w.t
            .http()
            .head(`/t/${slug()}/agora/rtc/c/publisher/uid/1`)
            .set('authorization', w.a.memberKey),
      ],
      [
        'a call with an Origin',
        () => get(`/t/${slug()}/agora/rtc/c/publisher/uid/1`, w.a.memberKey, FOREIGN_ORIGIN),
      ],
      [
        'a control character in the query',
        () => get(`/t/${slug()}/agora/rtc/c/publisher/uid/1?expiry=%00`),
      ],
      [
        'a parameter that does not percent-decode',
        () => get(`/t/${slug()}/agora/rtc/c%E0%A4%A/publisher/uid/1`),
      ],
      [
        'a POST',
        () =>
          w.t
            .http()
            .post(`/t/${slug()}/agora/rtc/c/publisher/uid/1`)
            .set('authorization', w.a.memberKey),
      ],
      [
        'a control character in X-Roomkey-Tenant',
        // Node's client refuses C0 bytes in headers; C1 (here NEL, U+0085) still travels.
        () => get(`/t/${slug()}/agora/rtc/c/publisher/uid/1`).set('x-roomkey-tenant', 'a\u0085'),
      ],
      [
        'a call with a Cookie (a browser: cookie sessions are read behind Express)',
        () => get(`/t/${slug()}/agora/rtc/c/publisher/uid/1`).set('cookie', 'rk_session=x'),
      ],
      ['another Agora route', () => get(`/t/${slug()}/agora/rtm/alice`)],
      ['too many segments', () => get(`/t/${slug()}/agora/rtc/c/publisher/uid/1/2`)],
    ])('should not take %s', async (_what, send) => {
      const r = await send();
      expect(served).not.toHaveBeenCalled();
      expect(r.status).toBeGreaterThanOrEqual(200);
    });

    it('should answer the hygiene refusal naming the header when X-Roomkey-Tenant has a control character', async () => {
      const r = await get(`/t/${slug()}/agora/rtc/c/publisher/uid/1`).set(
        'x-roomkey-tenant',
        'a\u0085',
      );
      expect(r.status).toBe(400);
      expect(r.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
      expect(JSON.parse(r.text)).toEqual({
        error: expect.objectContaining({ field: 'x-roomkey-tenant' }) as unknown,
      });
      expect(served).not.toHaveBeenCalled();
    });

    it('should still answer the hygiene refusal in the general shape when the query has a control character', async () => {
      const r = await get(`/t/${slug()}/agora/rtc/c/publisher/uid/1?expiry=%00`);
      expect(r.status).toBe(400);
      expect(r.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
    });
  });
});
