/**
 * The GraphQL IDE in headless Chromium (Debian's, as test/cookie-browser.e2e-spec.ts uses it, with
 * its background networking off): headers typed into its Headers tab sign the caller in, survive a
 * reload of the tab, live in that tab's sessionStorage only (never localStorage, so nothing is left
 * on disk) and are not handed to another tab.
 */
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium';
import { startTestApp, type TestApp } from './helpers/test-app';

const HEADERS = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';

/** The Headers tab's text (GraphiQL's editors are CodeMirror 5: the wrapper carries the editor). */
function headersText(page: Page): Promise<string> {
  return page.$eval(HEADERS, (el) =>
    (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue(),
  );
}

describe('GraphQL IDE in headless Chromium', () => {
  let t: TestApp;
  let roomkey: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    const server = t.app.getHttpServer() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    roomkey = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('should sign in with typed headers, keep them across a reload in sessionStorage only, and not share them with a new tab', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${roomkey}/graphql`);
    await page.waitForSelector(HEADERS);
    expect(await page.textContent('#sign-in-help')).toContain('base64');
    expect(await headersText(page)).toContain('Basic <base64');

    const typed = JSON.stringify({ Authorization: t.adminAuth });
    await page.$eval(
      HEADERS,
      (el, value) =>
        (el as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(value),
      typed,
    );
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() =>
      document.querySelector('.graphiql-response')?.textContent?.includes('"role"'),
    );
    expect(await page.textContent('.graphiql-response')).toContain('"OWNER"');

    // Kept for the tab: after a reload the Headers tab still holds them…
    // (GraphiQL saves the Headers tab a moment after an edit, under `graphiql:headers`.)
    await page.waitForFunction(
      (secret) => sessionStorage.getItem('graphiql:headers')?.includes(secret) === true,
      t.adminAuth,
    );
    await page.reload();
    // GraphiQL may draw its editors before it restores the tab: wait for the restored headers (a
    // tab that restored nothing keeps the placeholder, and this wait fails the test).
    await page.waitForFunction(
      ([selector, secret]) =>
        (
          document.querySelector(selector) as unknown as { CodeMirror?: { getValue(): string } }
        )?.CodeMirror?.getValue().includes(secret),
      [HEADERS, t.adminAuth],
      { timeout: 15_000 },
    );
    expect(await headersText(page)).toContain(t.adminAuth);
    // …in sessionStorage, never in localStorage (which outlives the tab, on disk).
    const stored = await page.evaluate(() => ({
      session: Object.values(sessionStorage).join('\n'),
      local: Object.keys(localStorage),
    }));
    expect(stored.session).toContain(t.adminAuth);
    expect(stored.local).toEqual([]);

    // Another tab starts from the placeholder.
    const other = await context.newPage();
    await other.goto(`${roomkey}/graphql`);
    await other.waitForSelector(HEADERS);
    expect(await headersText(other)).not.toContain(t.adminAuth);
    await context.close();
  });
});
