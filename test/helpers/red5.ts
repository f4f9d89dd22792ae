import { type SeededTenant, seedTenant } from '../factories/tenancy';
import { type TestApp } from './test-app';

/** A tenant with a default Red5 credential, one stream and one issued publisher credential. */
export interface Red5Tenant {
  tenant: SeededTenant;
  /** The body Red5 sends to validateCredentials for that publisher. */
  body: Record<string, unknown>;
}

export async function seedRed5Tenant(
  t: TestApp,
  headers: Record<string, string> = {},
): Promise<Red5Tenant> {
  const tenant = await seedTenant(t);
  const opts = { auth: tenant.owner.auth, headers };
  const cred = await t.gql(
    'mutation { createProviderCredential(input: {name: "r5", isDefault: true, red5: {tokenTtlSeconds: 3600}}) { id } }',
    {},
    opts,
  );
  expect(cred.body.errors).toBeUndefined();
  const stream = `stream-${tenant.slug}`;
  const session = await t.gql<{ createSession: { id: string } }>(
    `mutation { createSession(input: {provider: RED5, customSessionId: "${stream}"}) { id } }`,
    {},
    opts,
  );
  expect(session.body.errors).toBeUndefined();
  const conn = await t.gql<{
    createConnection: { credential: { username: string; password: string; token: string } };
  }>(
    `mutation { createConnection(input: {sessionId: "${session.body.data!.createSession.id}", role: PUBLISHER}) { credential { ... on Red5Credential { username password token } } } }`,
    {},
    opts,
  );
  expect(conn.body.errors).toBeUndefined();
  const c = conn.body.data!.createConnection.credential;
  return {
    tenant,
    body: {
      type: 'publisher',
      streamID: stream,
      username: c.username,
      password: c.password,
      token: c.token,
    },
  };
}

/** POSTs a body to a tenant's Red5 validateCredentials route. */
export function validateRed5(t: TestApp, slug: string, body: unknown, ip?: string) {
  const req = t
    .http()
    .post(`/t/${slug}/red5/validateCredentials`)
    .set('content-type', 'application/json');
  if (ip) req.set('x-forwarded-for', ip);
  return req.send(JSON.stringify(body));
}
