/**
 * The GraphQL servers of `npm run bench:floor`: one mutation, `rtcToken(input)`, whose resolver is
 * the Agora sample's RTC handler (bench/agora-rtc.ts) and nothing else — no database, no record —
 * so that what they cost above the REST floors is the GraphQL stack itself:
 *   - `apollo-express`: `@apollo/server` 5 on Express 5 through `@as-integrations/express5`, an SDL
 *     schema and a plain resolver function (no Nest);
 *   - `nest-apollo`: NestJS 11 + `@nestjs/apollo` 13, code-first, one resolver class (no guard,
 *     pipe or interceptor of its own) — the stack Roomkey is decided on, at its least;
 *   - `nest-apollo-guarded`: the same plus what any real resolver carries: one global guard that
 *     reads a header, one global interceptor that passes through, and Nest's ValidationPipe with
 *     class-validator rules on the input class (as Roomkey's inputs have).
 * Apollo's defaults otherwise (CSRF prevention, the document cache); logger off.
 */
import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  Inject,
  Injectable,
  Module,
  type NestInterceptor,
  ValidationPipe,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE, NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  Args,
  Field,
  GqlExecutionContext,
  GraphQLModule,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from '@nestjs/graphql';
import { IsIn, IsInt, IsString, Length, Max, Min } from 'class-validator';
import { type Server } from 'node:http';
import { type Observable } from 'rxjs';
import { rtcAnswer } from './agora-rtc';

interface RtcInput {
  channelName: string;
  role: string;
  uid: number;
  expiry: number;
}

function mint(appId: string, appCertificate: string, input: RtcInput): { rtcToken: string } {
  const answer = rtcAnswer(
    appId,
    appCertificate,
    { channelName: input.channelName, role: input.role, tokenType: 'uid', uid: String(input.uid) },
    String(input.expiry),
  );
  if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
  return answer.body as { rtcToken: string };
}

/** `apollo-express`: Apollo Server 5 on Express 5 with an SDL schema, no Nest. */
export async function startApolloExpress(appId: string, appCertificate: string): Promise<Server> {
  const [{ ApolloServer }, { expressMiddleware }, { default: express }] = await Promise.all([
    import('@apollo/server'),
    import('@as-integrations/express5'),
    import('express'),
  ]);
  const apollo = new ApolloServer({
    typeDefs: `
      input RtcTokenInput { channelName: String! role: String! uid: Int! expiry: Int! }
      type RtcToken { rtcToken: String! }
      type Query { ok: Boolean! }
      type Mutation { rtcToken(input: RtcTokenInput!): RtcToken! }
    `,
    resolvers: {
      Query: { ok: () => true },
      Mutation: {
        rtcToken: (_: unknown, args: { input: RtcInput }) =>
          mint(appId, appCertificate, args.input),
      },
    },
  });
  await apollo.start();
  const app = express();
  app.disable('x-powered-by');
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const AGORA_APP = Symbol('AGORA_APP');

interface AgoraApp {
  appId: string;
  appCertificate: string;
}

@InputType()
class RtcTokenInput implements RtcInput {
  @Field()
  @IsString()
  @Length(1, 64)
  channelName!: string;

  @Field()
  @IsIn(['publisher', 'subscriber'])
  role!: string;

  @Field(() => Int)
  @IsInt()
  @Min(0)
  uid!: number;

  @Field(() => Int)
  @IsInt()
  @Min(1)
  @Max(86_400)
  expiry!: number;
}

@ObjectType()
class RtcToken {
  @Field()
  rtcToken!: string;
}

@Resolver()
class RtcResolver {
  constructor(@Inject(AGORA_APP) private readonly agora: AgoraApp) {}

  @Query(() => Boolean)
  ok(): boolean {
    return true;
  }

  @Mutation(() => RtcToken)
  rtcToken(@Args('input') input: RtcTokenInput): RtcToken {
    return mint(this.agora.appId, this.agora.appCertificate, input);
  }
}

/** A guard as small as a real one can be: it reads a header from the GraphQL context's request. */
@Injectable()
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = GqlExecutionContext.create(context).getContext<{
      req: { headers: Record<string, unknown> };
    }>().req;
    return req.headers['content-type'] !== undefined;
  }
}

@Injectable()
class PassThroughInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

export type GraphqlFloor = 'nest-apollo' | 'nest-apollo-guarded';

/** Builds the Nest GraphQL app (Express adapter) and listens on 127.0.0.1 (ephemeral port). */
export async function startNestApollo(
  kind: GraphqlFloor,
  appId: string,
  appCertificate: string,
): Promise<INestApplication> {
  const enhancers =
    kind === 'nest-apollo-guarded'
      ? [
          { provide: APP_GUARD, useClass: HeaderGuard },
          { provide: APP_INTERCEPTOR, useClass: PassThroughInterceptor },
          { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true }) },
        ]
      : [];

  @Module({
    imports: [
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        playground: false,
        context: ({ req }: { req: unknown }) => ({ req }),
      }),
    ],
    providers: [
      RtcResolver,
      { provide: AGORA_APP, useValue: { appId, appCertificate } },
      ...enhancers,
    ],
  })
  class GraphqlFloorModule {}

  const app = await NestFactory.create(GraphqlFloorModule, { logger: false });
  (app.getHttpAdapter().getInstance() as { disable(name: string): void }).disable('x-powered-by');
  await app.listen(0, '127.0.0.1');
  return app;
}
