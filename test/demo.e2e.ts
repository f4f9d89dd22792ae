/**
 * `npm run demo` (docs/decisions.md#issue-6): Roomkey on the embedded database with the vendor emulators, a tenant
 * with every vendor's credential, and printed commands. Every printed command is sent here exactly
 * as printed (same method, URL, credentials and body) and must mint what its title promises.
 */
import { seedMigratedInMemoryDatabases } from './helpers/database';
import { type Demo, type DemoCommand, runDemo, toCurl } from '../scripts/demo';

describe('npm run demo', () => {
  let demo: Demo;

  beforeAll(async () => {
    seedMigratedInMemoryDatabases(); // the demo's in-memory database starts migrated
    demo = await runDemo({ quiet: true });
  });
  afterAll(() => demo.close());

  const send = async (c: DemoCommand): Promise<{ status: number; text: string }> => {
    const headers: Record<string, string> = {};
    if (c.basic) headers.authorization = `Basic ${Buffer.from(c.basic).toString('base64')}`;
    if (c.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(c.url, {
      method: c.method,
      headers,
      body: c.json === undefined ? undefined : JSON.stringify(c.json),
    });
    return { status: res.status, text: await res.text() };
  };

  it('should listen only on 127.0.0.1 and print a command for every vendor, through GraphQL and the compatibility routes', () => {
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const titles = demo.commands.map((c) => c.title).join('\n');
    for (const vendor of [
      'OpenVidu 2',
      'OpenVidu 3 / LiveKit',
      'Pexip VPaaS',
      'Agora',
      'Fishjam',
      'Red5 Pro',
    ]) {
      expect(titles).toContain(`GraphQL: a ${vendor}`);
    }
    for (const sample of [
      'OpenVidu 2 sample',
      'LiveKit sample',
      'Pexip VPaaS tutorial',
      'Agora token service',
      'Fishjam room manager',
    ]) {
      expect(titles).toContain(sample);
    }
    expect(demo.commands.every((c) => c.url.startsWith(demo.url))).toBe(true);
  });

  it('should render each command as a curl line with its method, credentials, body and URL', () => {
    const c = demo.commands.find((x) => x.title.startsWith('OpenVidu 2 sample: create'))!;
    expect(toCurl(c)).toBe(
      `curl -s -X POST -u '${demo.apiKey}' -H 'content-type: application/json' -d '{"customSessionId":"demo-room"}' '${demo.url}/t/demo/openvidu/api/sessions'`,
    );
    expect(toCurl({ title: 'x', method: 'GET', url: "http://127.0.0.1/it's" })).toBe(
      `curl -s 'http://127.0.0.1/it'\\''s'`,
    );
  });

  it('should mint a credential for every vendor when each printed command runs in order', async () => {
    const results: Array<{ title: string; status: number; text: string }> = [];
    for (const c of demo.commands) results.push({ title: c.title, ...(await send(c)) });
    for (const r of results) {
      expect({ title: r.title, status: r.status }).toEqual({ title: r.title, status: 200 });
      if (r.title.startsWith('GraphQL')) expect(JSON.parse(r.text)).not.toHaveProperty('errors');
    }
    const body = (prefix: string): string => results.find((r) => r.title.startsWith(prefix))!.text;
    const credential = (vendor: string) =>
      (
        JSON.parse(body(`GraphQL: a ${vendor}`)) as {
          data: { createConnection: { credential: Record<string, unknown> } };
        }
      ).data.createConnection.credential;
    expect(String(credential('OpenVidu 2').token)).toMatch(/token=tok_/);
    expect(String(credential('OpenVidu 3 / LiveKit').token).split('.')).toHaveLength(3);
    expect(credential('Pexip VPaaS').participantSecret).toEqual(expect.any(String));
    expect(credential('Agora')).toMatchObject({ uid: 42, token: expect.stringMatching(/^007/) });
    expect(credential('Fishjam').peerToken).toEqual(expect.any(String));
    expect(credential('Red5 Pro')).toMatchObject({ streamId: 'demo-red5', type: 'publisher' });
    expect(body('OpenVidu 2 sample: create')).toBe('demo-room');
    expect(body('OpenVidu 2 sample: a connection')).toMatch(
      /^wss?:\/\/.*sessionId=demo-room&token=tok_/,
    );
    expect(JSON.parse(body('OpenVidu 3 / LiveKit sample'))).toEqual({ token: expect.any(String) });
    expect(body('Pexip VPaaS tutorial: the API address')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse(body('Pexip VPaaS tutorial: a meeting'))).toMatchObject({
      id: expect.any(String),
      status: expect.any(String),
    });
    expect(JSON.parse(body('Agora token service: an RTC'))).toEqual({
      rtcToken: expect.stringMatching(/^007/),
    });
    expect(JSON.parse(body('Agora token service: POST'))).toEqual({
      token: expect.stringMatching(/^007/),
    });
    expect(JSON.parse(body('Fishjam room manager'))).toMatchObject({
      peerToken: expect.any(String),
      room: { name: 'demo-room' },
      peer: { name: 'alice' },
    });
  });
});
