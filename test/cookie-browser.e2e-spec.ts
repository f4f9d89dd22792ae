/**
 * Cookie sessions in a real browser (README "Cookie sessions", docs/decisions.md#issue-12): Debian's headless
 * Chromium driven by playwright-core, Roomkey and two front-end pages on 127.0.0.1 (three
 * origins, one site). The front end signs in on Roomkey's own origin (`login(cookie: true)`),
 * then a page on the tenant's allowed origin gets a token from a compatibility route with
 * `credentials: 'include'` and no header; a page on another origin cannot, though the browser
 * sends the cookie there too; after logout the allowed page is refused.
 *
 * Chromium comes from Debian (`apt-get install chromium`; `npm test` installs it when missing,
 * scripts/ensure-chromium.sh). It runs with its background networking off: nothing leaves
 * 127.0.0.1.
 */
import { type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium';
import { uniq } from './helpers/assertions';
import { ok, startVendorWorld, type VendorWorld } from './helpers/vendors';

/** A front end's page: an empty document on its own origin. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>front end</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** What a page's `fetch` gave: the status and body, or the network error a CORS refusal is. */
type Fetched = { status: number; body: string } | { error: string };

function fetchFrom(
  page: Page,
  url: string,
  init: { credentials: 'include' | 'omit' | 'same-origin'; method?: string; body?: string },
): Promise<Fetched> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const res = await fetch(u, {
          ...i,
          headers: i.body ? { 'content-type': 'application/json' } : {},
        });
        return { status: res.status, body: await res.text() };
      } catch (err) {
        return { error: String(err) };
      }
    },
    [url, init] as const,
  );
}

describe('cookie sessions in headless Chromium', () => {
  let w: VendorWorld;
  let roomkey: string;
  let allowed: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let browser: Browser;

  beforeAll(async () => {
    w = await startVendorWorld();
    const server = w.t.app.getHttpServer() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    roomkey = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    [allowed, other] = await Promise.all([pageServer(), pageServer()]);
    await ok(
      w.t.gql(
        'mutation ($o: [String!]!) { setCompatCorsOrigins(origins: $o) { compatCorsOrigins } }',
        { o: [allowed.origin] },
        { auth: w.a.adminKey },
      ),
    );
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of [allowed, other]) s?.server.close();
    await w?.close();
  });

  it('should give a token to a page on an allowed origin with credentials: include, none to another origin, and none after logout', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const rtc = `${roomkey}/t/${w.a.tenant.slug}/agora/rtc/browser-${uniq()}/publisher/uid/5/`;
    const count = async () =>
      (
        await w.t.ds.query<Array<{ n: number }>>(
          'SELECT count(*)::int AS n FROM session_connection WHERE tenant_id = $1',
          [w.a.tenant.id],
        )
      )[0].n;

    // Sign in on Roomkey's own origin: the answer carries no token, the browser keeps the cookie.
    await page.goto(`${roomkey}/health/live`);
    const login = await fetchFrom(page, '/graphql', {
      credentials: 'same-origin',
      method: 'POST',
      body: JSON.stringify({
        query:
          'mutation ($input: LoginInput!) { login(input: $input) { accessToken tenant { slug } } }',
        variables: {
          input: {
            email: w.a.member.email,
            password: w.a.member.password,
            tenantSlug: w.a.tenant.slug,
            cookie: true,
          },
        },
      }),
    });
    expect(login).toMatchObject({ status: 200 });
    expect(JSON.parse((login as { body: string }).body)).toEqual({
      data: { login: { accessToken: '', tenant: { slug: w.a.tenant.slug } } },
    });
    const cookies = await context.cookies(roomkey);
    expect(cookies.find((c) => c.name === 'rk_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
    });
    expect(await page.evaluate(() => document.cookie)).toBe(''); // scripts cannot read it

    // The allowed origin: a token, with no header of its own.
    await page.goto(`${allowed.origin}/`);
    const before = await count();
    const minted = await fetchFrom(page, rtc, { credentials: 'include' });
    expect(minted).toMatchObject({ status: 200 });
    expect(JSON.parse((minted as { body: string }).body)).toEqual({
      rtcToken: expect.stringMatching(/^007/),
    });
    expect(await count()).toBe(before + 1);
    // Without its cookie the same page is refused (and may read the refusal).
    expect(await fetchFrom(page, rtc, { credentials: 'omit' })).toMatchObject({ status: 401 });

    // Another origin of the same site: the browser sends the cookie, Roomkey refuses it and sends
    // no CORS headers, so the page gets nothing at all.
    await page.goto(`${other.origin}/`);
    const refused = await fetchFrom(page, rtc, { credentials: 'include' });
    expect(refused).toEqual({ error: expect.stringContaining('Failed to fetch') });
    expect(await count()).toBe(before + 1);

    // Logout on Roomkey's origin clears the cookie; the allowed page is refused afterwards.
    await page.goto(`${roomkey}/health/live`);
    const logout = await fetchFrom(page, '/graphql', {
      credentials: 'same-origin',
      method: 'POST',
      body: JSON.stringify({ query: 'mutation { logout }' }),
    });
    expect(logout).toMatchObject({ status: 200 });
    expect(JSON.parse((logout as { body: string }).body)).toEqual({ data: { logout: true } });
    expect((await context.cookies(roomkey)).map((c) => c.name)).not.toContain('rk_session');
    await page.goto(`${allowed.origin}/`);
    expect(await fetchFrom(page, rtc, { credentials: 'include' })).toMatchObject({ status: 401 });
    await context.close();
  }, 60_000);
});
