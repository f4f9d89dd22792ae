import { type ExecutionContext, type INestApplication, type Type } from '@nestjs/common';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { RolesGuard } from '../src/auth/roles.guard';
import { IS_PUBLIC_KEY, PLATFORM_ADMIN, Roles, ROLES_KEY } from '../src/common/auth/decorators';
import { type AuthenticatedPrincipal } from '../src/common/auth/principal';
import { ActorType, AuthMethod, MemberRole } from '../src/common/auth/roles';
import { DomainException, ErrorCode } from '../src/common/errors';
import { startTestApp, type TestApp } from './helpers/test-app';

/** docs/product.md#guarded-by-default: every query and mutation carries a roles decision or @Public(). */

const RESOLVER_TYPE = 'graphql:resolver_type';
const RESOLVER_NAME = 'graphql:resolver_name';

/** docs/product.md#guarded-by-default: the only operations that need no authenticated principal. */
const PUBLIC_ALLOWED = new Set(['login', 'refreshToken', 'exchangeLoginCode']);

interface Operation {
  kind: 'Query' | 'Mutation' | 'Subscription';
  /** The schema field name. */
  name: string;
  /** Class.method, for failure messages. */
  where: string;
  roles: unknown;
  isPublic: boolean;
}

/** Walks every provider of every module and returns its GraphQL root operations. */
function findOperations(app: INestApplication): Operation[] {
  const scanner = new MetadataScanner();
  const seen = new Set<object>();
  const ops: Operation[] = [];
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.providers.values()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
      if (!proto || seen.has(proto)) continue;
      seen.add(proto);
      const cls = proto.constructor as new (...args: never[]) => unknown;
      for (const method of scanner.getAllMethodNames(proto)) {
        const handler = proto[method];
        if (typeof handler !== 'function') continue;
        const kind = Reflect.getMetadata(RESOLVER_TYPE, handler) as string | undefined;
        if (kind !== 'Query' && kind !== 'Mutation' && kind !== 'Subscription') continue;
        const name = (Reflect.getMetadata(RESOLVER_NAME, handler) as string | undefined) ?? method;
        const roles: unknown =
          Reflect.getMetadata(ROLES_KEY, handler) ?? Reflect.getMetadata(ROLES_KEY, cls);
        const isPublic =
          Reflect.getMetadata(IS_PUBLIC_KEY, handler) === true ||
          Reflect.getMetadata(IS_PUBLIC_KEY, cls) === true;
        ops.push({ kind, name, where: `${cls.name}.${method}`, roles, isPublic });
      }
    }
  }
  return ops;
}

const describeOp = (o: Operation): string => `${o.kind} ${o.name} (${o.where})`;

describe('roles coverage', () => {
  let t: TestApp;
  let ops: Operation[];

  beforeAll(async () => {
    t = await startTestApp();
    ops = findOperations(t.app);
  });
  afterAll(() => t.close());

  it('should find a roles decision or @Public() when walking every query and mutation resolver', () => {
    const offenders = ops
      .filter((o) => o.kind !== 'Subscription' && o.roles === undefined && !o.isPublic)
      .map(describeOp);
    expect(ops.length).toBeGreaterThan(0);
    expect({ operationsWithoutRolesOrPublic: offenders }).toEqual({
      operationsWithoutRolesOrPublic: [],
    });
  });

  it('should name at least one real role when an operation carries a roles decision', () => {
    const valid = new Set<unknown>(Object.values(MemberRole));
    const offenders = ops
      .filter((o) => o.roles !== undefined && o.roles !== PLATFORM_ADMIN)
      .filter(
        (o) =>
          !Array.isArray(o.roles) || o.roles.length === 0 || o.roles.some((r) => !valid.has(r)),
      )
      .map((o) => `${describeOp(o)}: ${JSON.stringify(o.roles)}`);
    expect({ malformedRolesDecisions: offenders }).toEqual({ malformedRolesDecisions: [] });
  });

  it('should mark @Public() only on login, refreshToken and exchangeLoginCode when walking the resolvers', () => {
    const offenders = ops.filter((o) => o.isPublic && !PUBLIC_ALLOWED.has(o.name)).map(describeOp);
    expect({ unexpectedPublicOperations: offenders }).toEqual({ unexpectedPublicOperations: [] });
  });

  it('should have found every Mutation and Query of the live schema when walking the resolvers', () => {
    const schema = t.app.get(GraphQLSchemaHost).schema;
    const mutationFields = Object.keys(schema.getMutationType()?.getFields() ?? {}).sort();
    const queryFields = Object.keys(schema.getQueryType()?.getFields() ?? {}).sort();
    expect(mutationFields.length).toBeGreaterThan(0);
    expect(queryFields.length).toBeGreaterThan(0);

    const walked = (kind: Operation['kind']): string[] =>
      [...new Set(ops.filter((o) => o.kind === kind).map((o) => o.name))].sort();
    expect({ Mutation: walked('Mutation'), Query: walked('Query') }).toEqual({
      Mutation: mutationFields,
      Query: queryFields,
    });
  });

  describe('RolesGuard', () => {
    class Fixture {
      noDecision(): void {}

      @Roles(MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER)
      anyone(): void {}

      @Roles(MemberRole.OWNER)
      ownersOnly(): void {}
    }

    const principal = (role: MemberRole): AuthenticatedPrincipal => ({
      actorType: ActorType.USER,
      actorId: 'u1',
      actorLabel: 'user@example.test',
      userId: 'u1',
      apiKeyId: null,
      tenantId: 't1',
      tenantSlug: 'tenant-one',
      role,
      authMethod: AuthMethod.BASIC_PASSWORD,
      isPlatformAdmin: true,
    });

    const contextFor = (
      handler: keyof Fixture,
      user?: AuthenticatedPrincipal,
    ): ExecutionContext => {
      const req = { user, headers: {}, ip: '127.0.0.1', id: 'roles-guard-unit' };
      return new ExecutionContextHost([req, {}, undefined], Fixture, Fixture.prototype[handler]);
    };

    /** Whatever the guard decides, synchronously or not: its answer, or what it threw. */
    const decide = async (
      ctx: ExecutionContext,
    ): Promise<{ allowed?: unknown; error?: unknown }> => {
      try {
        return { allowed: await guard().canActivate(ctx) };
      } catch (error) {
        return { error };
      }
    };

    /**
     * A RolesGuard built by hand around a fresh Reflector. Any further constructor dependencies
     * (an audit sink, say) are taken from the running app, so the test follows the guard's shape.
     */
    let built: RolesGuard | undefined;
    const guard = (): RolesGuard => {
      if (!built) {
        const types = (Reflect.getMetadata('design:paramtypes', RolesGuard) ?? []) as Array<Type>;
        const deps = types.map((dep) =>
          dep === Reflector ? new Reflector() : t.app.get(dep, { strict: false }),
        );
        built = new (RolesGuard as unknown as new (...args: unknown[]) => RolesGuard)(...deps);
      }
      return built;
    };

    it('should throw FORBIDDEN when the handler has no roles metadata', async () => {
      const { allowed, error } = await decide(
        contextFor('noDecision', principal(MemberRole.OWNER)),
      );
      expect(allowed).toBeUndefined();
      expect(error).toBeInstanceOf(DomainException);
      expect((error as DomainException).code).toBe(ErrorCode.FORBIDDEN);
    });

    it('should allow the call when the handler lists the caller role', async () => {
      expect(await decide(contextFor('anyone', principal(MemberRole.MEMBER)))).toEqual({
        allowed: true,
      });
    });

    it('should throw FORBIDDEN when the handler does not list the caller role', async () => {
      const { error } = await decide(contextFor('ownersOnly', principal(MemberRole.ADMIN)));
      expect(error).toBeInstanceOf(DomainException);
      expect((error as DomainException).code).toBe(ErrorCode.FORBIDDEN);
    });

    it('should throw UNAUTHENTICATED when no principal is attached', async () => {
      const { error } = await decide(contextFor('anyone'));
      expect(error).toBeInstanceOf(DomainException);
      expect((error as DomainException).code).toBe(ErrorCode.UNAUTHENTICATED);
    });
  });
});
