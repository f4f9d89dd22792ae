import { startTestApp, type TestApp } from './helpers/test-app';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('should answer me for the bootstrap admin', async () => {
    const r = await t.gql<{ me: { role: string } }>(
      '{ me { role tenant { slug } } }',
      {},
      { auth: t.adminAuth },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.me.role).toBe('OWNER');
  });
});
