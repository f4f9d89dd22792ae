/**
 * What an audit event's hash covers is what the database keeps. Text reaches the batch statement
 * as JSON (one parameter per table), bytes as hex, times as ISO strings: each must come back as
 * written, and text a client can send that UTF-8 cannot carry (a lone UTF-16 surrogate, from a
 * `\ud800` escape in a JSON body) must not leave the tenant's chain unverifiable.
 */
import { uniq } from './helpers/assertions';
import { CONNECTION_FIELDS, type VendorWorld, startVendorWorld } from './helpers/vendors';

describe('Audit text', () => {
  let w: VendorWorld;
  let sessionId: string;

  beforeAll(async () => {
    w = await startVendorWorld();
    const created = await w.t.gql<{ createSession: { id: string } }>(
      'mutation { createSession(input: {provider: LIVEKIT, customSessionId: "audit-text"}) { id } }',
      {},
      { auth: w.a.memberKey },
    );
    sessionId = created.body.data!.createSession.id;
  });
  afterAll(() => w?.close());

  const verify = async () =>
    (
      await w.t.gql<{ verifyAuditLog: { ok: boolean; reason: string | null } }>(
        '{ verifyAuditLog { ok reason } }',
        {},
        { auth: w.a.adminKey },
      )
    ).body.data!.verifyAuditLog;

  const connect = (identity: string, displayName: string) =>
    w.t.gql<{ createConnection: { id: string; identity: string; displayName: string } }>(
      `mutation ($input: CreateConnectionInput!) { createConnection(input: $input) { ${CONNECTION_FIELDS} } }`,
      { input: { sessionId, identity, displayName } },
      { auth: w.a.memberKey },
    );

  const stored = async (connectionId: string) => {
    const [row] = await w.t.ds.query<Array<{ identity: string; display_name: string }>>(
      'SELECT identity, display_name FROM session_connection WHERE id = $1',
      [connectionId],
    );
    const [event] = await w.t.ds.query<Array<{ identity: string }>>(
      `SELECT metadata->>'identity' AS identity FROM audit_event
       WHERE action = 'connection.created' AND target_id = $1`,
      [connectionId],
    );
    return { identity: row.identity, displayName: row.display_name, eventIdentity: event.identity };
  };

  it('should keep quotes, backslashes, control-free Unicode and surrogate pairs exactly when they ride in the batch', async () => {
    const identity = `q"b'é中😀-${uniq()}`;
    const displayName = `{"not":"json"} \\u0041 [1,2] 😀`;
    const r = await connect(identity, displayName);
    expect(r.body.errors).toBeUndefined();
    const id = r.body.data!.createConnection.id;
    expect(await stored(id)).toEqual({ identity, displayName, eventIdentity: identity });
    expect(await verify()).toEqual({ ok: true, reason: null });
  });

  it('should store a lone surrogate as U+FFFD in the row and the event alike, and the chain should still verify', async () => {
    const tag = uniq();
    const r = await connect(`lone-\ud800-${tag}`, `end \udfff`);
    expect(r.body.errors).toBeUndefined();
    const id = r.body.data!.createConnection.id;
    expect(await stored(id)).toEqual({
      identity: `lone-\ufffd-${tag}`,
      displayName: 'end \ufffd',
      eventIdentity: `lone-\ufffd-${tag}`,
    });
    expect(await verify()).toEqual({ ok: true, reason: null });
  });
});
