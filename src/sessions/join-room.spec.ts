import { type RequestContext } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { ProviderKind } from '../providers/provider-kind';
import {
  type ConnectionsService,
  type IssuedConnection,
  SESSION_GONE,
} from './connections.service';
import { JoinRoom, type JoinRoomCommand } from './join-room';
import { type SessionsService } from './sessions.service';
import { type VideoSession } from './video-session.entity';

const ctx = { tenantId: 't1' } as RequestContext;
const origin = { via: 'compat.test', route: 'test.route' };
const room = (id: string): VideoSession => ({ id }) as VideoSession;
const gone = (): DomainException =>
  new DomainException(ErrorCode.CONFLICT, 'gone', { field: 'sessionId', reason: SESSION_GONE });

/** A JoinRoom over recorded fakes: `steps` lists the calls in the order they happened. */
function setup(issue: (session: VideoSession) => Promise<IssuedConnection>) {
  const steps: string[] = [];
  let created = 0;
  const sessions = {
    create: jest.fn((_c: RequestContext, req: { customSessionId?: string }) => {
      steps.push(`create:${req.customSessionId}`);
      return Promise.resolve(room(`created-${++created}`));
    }),
    get: jest.fn((_c: RequestContext, id: string) => {
      steps.push(`get:${id}`);
      return Promise.resolve(room(id));
    }),
    findOpenForKind: jest.fn(
      (_c: RequestContext, _k: ProviderKind, _cred: string | null, ext: string) => {
        steps.push(`find:${ext}`);
        return Promise.resolve(ext === 'missing' ? null : room(`open-${ext}`));
      },
    ),
    findOpenByCustomId: jest.fn(
      (_c: RequestContext, _k: ProviderKind, _cred: string | null, key: string) => {
        steps.push(`find-key:${key}`);
        return Promise.resolve(key === 'missing' ? null : room(`named-${key}`));
      },
    ),
  };
  const connections = {
    checkJoin: jest.fn((kind: ProviderKind, join: { identity?: string }) => {
      steps.push(`check:${kind}`);
      if (join.identity === 'bad') throw DomainException.badInput('identity', 'bad');
      return { prepared: { identity: join.identity ?? '', options: {} }, displayName: null };
    }),
    receiveOnly: jest.fn(() => true),
    issueFor: jest.fn((_c: RequestContext, session: VideoSession, _j: unknown, o: unknown) => {
      steps.push(`issue:${session.id}:${JSON.stringify(o)}`);
      return issue(session);
    }),
  };
  const joinRoom = new JoinRoom(
    sessions as unknown as SessionsService,
    connections as unknown as ConnectionsService,
  );
  return { joinRoom, steps, sessions, connections };
}

const issued = (session: VideoSession): Promise<IssuedConnection> =>
  Promise.resolve({ session, credential: { token: 'x' } } as unknown as IssuedConnection);

const byRequest = (extra: Partial<JoinRoomCommand> = {}): JoinRoomCommand => ({
  origin,
  room: { request: { provider: ProviderKind.LIVEKIT, customSessionId: 'r1' } },
  join: { identity: 'alice' },
  ...extra,
});

describe('JoinRoom', () => {
  it('should check the join before creating the room, then issue there with the origin', async () => {
    const { joinRoom, steps } = setup(issued);
    const out = await joinRoom.execute(ctx, byRequest());
    expect(out.session.id).toBe('created-1');
    expect(steps).toEqual([
      'check:LIVEKIT',
      'create:r1',
      `issue:created-1:${JSON.stringify(origin)}`,
    ]);
  });

  it('should not create the room when the join is bad', async () => {
    const { joinRoom, sessions } = setup(issued);
    await expect(
      joinRoom.execute(ctx, byRequest({ join: { identity: 'bad' } })),
    ).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
    expect(sessions.create).not.toHaveBeenCalled();
  });

  it('should answer NOT_FOUND naming the room and issue nothing when an open room is missing', async () => {
    const { joinRoom, connections } = setup(issued);
    await expect(
      joinRoom.execute(ctx, {
        origin,
        room: {
          open: {
            kind: ProviderKind.PEXIP,
            credentialId: null,
            externalId: 'missing',
            what: 'Meeting',
          },
        },
        join: {},
      }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    expect(connections.issueFor).not.toHaveBeenCalled();
  });

  const named = (customId: string): JoinRoomCommand => ({
    origin,
    room: { open: { kind: ProviderKind.FISHJAM, credentialId: null, customId, what: 'Room' } },
    join: {},
  });

  it('should issue in the open room found by customSessionId when open gives a customId', async () => {
    const { joinRoom, steps, sessions } = setup(issued);
    const out = await joinRoom.execute(ctx, named('town-hall'));
    expect(out.session.id).toBe('named-town-hall');
    expect(steps).toEqual([
      'find-key:town-hall',
      `issue:named-town-hall:${JSON.stringify(origin)}`,
    ]);
    expect(sessions.findOpenForKind).not.toHaveBeenCalled();
    expect(sessions.create).not.toHaveBeenCalled();
  });

  it('should answer NOT_FOUND naming the room, and create nothing, when no open room has that customId', async () => {
    const { joinRoom, sessions, connections } = setup(issued);
    await expect(joinRoom.execute(ctx, named('missing'))).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
      message: 'Room not found',
    });
    expect(sessions.create).not.toHaveBeenCalled();
    expect(connections.issueFor).not.toHaveBeenCalled();
  });

  it('should issue in the session by id without creating anything', async () => {
    const { joinRoom, steps } = setup(issued);
    await joinRoom.execute(ctx, { origin, room: { sessionId: 's1' }, join: {} });
    expect(steps).toEqual(['get:s1', `issue:s1:${JSON.stringify(origin)}`]);
  });

  it('should re-create the room once and issue there when the vendor has dropped it', async () => {
    const { joinRoom, steps } = setup((s) =>
      s.id === 'created-1' ? Promise.reject(gone()) : issued(s),
    );
    const out = await joinRoom.execute(
      ctx,
      byRequest({
        recreateIfGone: (s) => ({
          provider: ProviderKind.LIVEKIT,
          customSessionId: `again-${s.id}`,
        }),
      }),
    );
    expect(out.session.id).toBe('created-2');
    expect(steps.filter((s) => s.startsWith('create:'))).toEqual([
      'create:r1',
      'create:again-created-1',
    ]);
  });

  it('should answer the CONFLICT when the re-created room is gone too (no second retry)', async () => {
    const { joinRoom, sessions } = setup(() => Promise.reject(gone()));
    await expect(
      joinRoom.execute(
        ctx,
        byRequest({ recreateIfGone: () => ({ provider: ProviderKind.LIVEKIT }) }),
      ),
    ).rejects.toMatchObject({ reason: SESSION_GONE });
    expect(sessions.create).toHaveBeenCalledTimes(2);
  });

  it('should answer the CONFLICT without re-creating when the route does not ask for it', async () => {
    const { joinRoom, sessions } = setup(() => Promise.reject(gone()));
    await expect(joinRoom.execute(ctx, byRequest())).rejects.toMatchObject({
      reason: SESSION_GONE,
    });
    expect(sessions.create).toHaveBeenCalledTimes(1);
  });
});
