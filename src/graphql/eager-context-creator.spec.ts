import 'reflect-metadata';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import {
  ArgumentsHost,
  ArgumentMetadata,
  CallHandler,
  CanActivate,
  Catch,
  ExceptionFilter,
  ExecutionContext,
  Injectable,
  Logger,
  Module,
  NestInterceptor,
  PipeTransform,
  Scope,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  createParamDecorator,
} from '@nestjs/common';
import { APP_GUARD, APP_PIPE, ExternalContextCreator } from '@nestjs/core';
import { Args, Context, Field, GqlExecutionContext, GraphQLModule, GraphQLSchemaHost, Int, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { GraphQLError, GraphQLSchema, graphql } from 'graphql';
import { Observable, of } from 'rxjs';
import { EagerContextCreator } from './eager-context-creator';
import { EagerContextCreatorModule } from './eager-context-creator.module';

/**
 * EagerContextCreator must run resolvers exactly as Nest's own
 * ExternalContextCreator does, only without promises where nothing is
 * asynchronous: every case runs against both and must answer the same.
 */

/** What each request asks of the global guard, through its context. */
type GuardMode = 'allow' | 'deny' | 'allow-async' | 'deny-async' | 'allow-observable' | 'throw';

interface TestContext {
  guard: GuardMode;
  /** Every step that ran, in order: guards, pipes, interceptors, resolvers. */
  trace: string[];
}

@Injectable()
class ContextGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    const gql = GqlExecutionContext.create(context).getContext<TestContext>();
    // A guard tells GraphQL operations from HTTP routes by the context's type (AccessGuard lets routes through).
    gql.trace.push(`guard ${context.getType()} ${context.getClass().name}.${context.getHandler().name}`);
    switch (gql.guard) {
      case 'allow':
        return true;
      case 'deny':
        return false;
      case 'allow-async':
        return Promise.resolve(true);
      case 'deny-async':
        return Promise.resolve(false);
      case 'allow-observable':
        return of(true);
      case 'throw':
        throw new GraphQLError('the guard threw', { extensions: { code: 'GUARD' } });
    }
  }
}

/** A second guard on one resolver: runs after the global one, only when it allowed. */
@Injectable()
class SecondGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    GqlExecutionContext.create(context).getContext<TestContext>().trace.push('second guard');
    return true;
  }
}

/** The global pipe: trims string arguments, and refuses "invalid". */
@Injectable()
class TrimPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (value === 'invalid') throw new GraphQLError(`refused by the global pipe (${metadata.type}, ${String(metadata.data)})`);
    return typeof value === 'string' ? value.trim() : value;
  }
}

/** A parameter's own pipe, asynchronous: runs after the global one. */
class AsyncSuffixPipe implements PipeTransform {
  transform(value: unknown): Promise<unknown> {
    return Promise.resolve(`${String(value)}!`);
  }
}

class UpperCaseMethodPipe implements PipeTransform {
  transform(value: unknown): unknown {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}

/** Wraps the resolver's answer: a resolver with an interceptor keeps Nest's own (rxjs) path. */
@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    GqlExecutionContext.create(context).getContext<TestContext>().trace.push('interceptor');
    return new Observable((subscriber) => {
      next.handle().subscribe({ next: (value) => subscriber.next(`[${String(value)}]`), error: (e) => subscriber.error(e), complete: () => subscriber.complete() });
    });
  }
}

@Catch()
class RewordingFilter implements ExceptionFilter {
  catch(exception: Error, _host: ArgumentsHost): GraphQLError {
    return new GraphQLError(`filtered: ${exception.message}`);
  }
}

/** A parameter's pipe that fails later, and a decorator that fails at once: the decorator's error is the answer. */
class RejectingPipe implements PipeTransform {
  transform(value: unknown): Promise<unknown> {
    return new Promise((_resolve, reject) => setImmediate(() => reject(new GraphQLError(`the pipe rejected ${String(value)}`))));
  }
}
const Throwing = createParamDecorator(() => {
  throw new GraphQLError('the decorator threw');
});

const TraceLength = createParamDecorator((_data: unknown, context: ExecutionContext) => GqlExecutionContext.create(context).getContext<TestContext>().trace.length);

@ObjectType()
class Item {
  @Field()
  name!: string;

  @Field()
  label?: string;
}

@Resolver(() => Item)
class ItemsResolver {
  @Query(() => String)
  echo(@Args('text') text: string, @Context() context: TestContext): string {
    context.trace.push('echo');
    return text;
  }

  @Query(() => String)
  suffixed(@Args('text', AsyncSuffixPipe) text: string): string {
    return text;
  }

  @Query(() => String)
  @UsePipes(UpperCaseMethodPipe)
  shouted(@Args('text') text: string): string {
    return text;
  }

  @Query(() => String)
  async later(@Args('text') text: string): Promise<string> {
    await new Promise((resolve) => setImmediate(resolve));
    return `later ${text}`;
  }

  @Query(() => String)
  observed(): Observable<string> {
    return of('first', 'last');
  }

  @Query(() => String)
  fails(): string {
    throw new GraphQLError('the resolver threw', { extensions: { code: 'RESOLVER' } });
  }

  @Query(() => String)
  rejects(): Promise<string> {
    return Promise.reject(new GraphQLError('the resolver rejected'));
  }

  @Query(() => String)
  @UseFilters(RewordingFilter)
  filtered(): string {
    throw new Error('raw failure');
  }

  @Query(() => String)
  @UseInterceptors(WrapInterceptor)
  intercepted(@Context() context: TestContext): string {
    context.trace.push('intercepted');
    return 'value';
  }

  @Query(() => String)
  @UseGuards(SecondGuard)
  guardedTwice(@Context() context: TestContext): string {
    context.trace.push('guardedTwice');
    return 'twice';
  }

  @Query(() => Int)
  traced(@TraceLength() length: number): number {
    return length;
  }

  @Query(() => String)
  mixed(@Throwing() thrown: string, @Args('text', RejectingPipe) text: string): string {
    return `${thrown} ${text}`;
  }

  @Query(() => Item)
  item(): Item {
    return { name: 'box' };
  }

  @ResolveField(() => String)
  label(@Parent() item: Item): string {
    return `label of ${item.name}`;
  }
}

/** A request-scoped resolver: Nest creates its handler per request, and so must the creator. */
@Resolver()
@Injectable({ scope: Scope.REQUEST })
class ScopedResolver {
  private readonly created = Date.now();

  @Query(() => Boolean)
  scoped(): boolean {
    return this.created > 0;
  }
}

@Module({ providers: [ItemsResolver, ScopedResolver, SecondGuard, WrapInterceptor] })
class ItemsModule {}

async function start(eager: boolean): Promise<{ app: NestFastifyApplication; schema: GraphQLSchema }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      GraphQLModule.forRootAsync<ApolloDriverConfig>({
        driver: ApolloDriver,
        imports: eager ? [EagerContextCreatorModule] : [],
        useFactory: () => ({ autoSchemaFile: true, playground: false }),
      }),
      ItemsModule,
    ],
    providers: [
      { provide: APP_GUARD, useClass: ContextGuard },
      { provide: APP_PIPE, useClass: TrimPipe },
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  return { app, schema: app.get(GraphQLSchemaHost).schema };
}

describe.each([
  ['Nest’s ExternalContextCreator', false],
  ['EagerContextCreator', true],
])('resolvers run through %s', (_name, eager) => {
  let app: NestFastifyApplication;
  let schema: GraphQLSchema;

  beforeAll(async () => {
    ({ app, schema } = await start(eager));
  });

  afterAll(async () => {
    await app?.close();
  });

  /** The answer, each error's message and the class of what was thrown, and the steps that ran. */
  async function run(source: string, guard: GuardMode = 'allow'): Promise<{ data: unknown; errors?: string[]; thrown?: string[]; trace: string[] }> {
    const context: TestContext = { guard, trace: [] };
    const result = await graphql({ schema, source, contextValue: context });
    if (!result.errors) return { data: result.data, trace: context.trace };
    return {
      data: result.data,
      errors: result.errors.map((error) => error.message),
      thrown: result.errors.map((error) => error.originalError?.constructor.name ?? 'none'),
      trace: context.trace,
    };
  }

  it('runs the guard, the global pipe and the resolver, in that order', async () => {
    expect(await run('{ echo(text: "  hello  ") }')).toEqual({ data: { echo: 'hello' }, trace: ['guard graphql ItemsResolver.echo', 'echo'] });
  });

  it.each<[GuardMode, unknown]>([
    ['allow-async', { echo: 'x' }],
    ['allow-observable', { echo: 'x' }],
  ])('takes a guard answering %s', async (mode, data) => {
    expect((await run('{ echo(text: "x") }', mode)).data).toEqual(data);
  });

  it.each<GuardMode>(['deny', 'deny-async'])('refuses with Nest’s ForbiddenException when the guard answers %s, without running the resolver', async (mode) => {
    expect(await run('{ echo(text: "x") }', mode)).toEqual({ data: null, errors: ['Forbidden resource'], thrown: ['ForbiddenException'], trace: ['guard graphql ItemsResolver.echo'] });
  });

  it('passes an error the guard throws to the client as it is', async () => {
    expect(await run('{ echo(text: "x") }', 'throw')).toEqual({ data: null, errors: ['the guard threw'], thrown: ['GraphQLError'], trace: ['guard graphql ItemsResolver.echo'] });
  });

  it('runs a resolver’s own guard after the global one', async () => {
    expect(await run('{ guardedTwice }')).toEqual({ data: { guardedTwice: 'twice' }, trace: ['guard graphql ItemsResolver.guardedTwice', 'second guard', 'guardedTwice'] });
  });

  it('runs the global pipe, then the parameter’s own (asynchronous) pipe', async () => {
    expect((await run('{ suffixed(text: " a ") }')).data).toEqual({ suffixed: 'a!' });
  });

  it('runs the global pipe, then the method’s pipe', async () => {
    expect((await run('{ shouted(text: " quiet ") }')).data).toEqual({ shouted: 'QUIET' });
  });

  it('refuses what a pipe refuses, with its message and the argument’s metadata, without running the resolver', async () => {
    expect(await run('{ echo(text: "invalid") }')).toEqual({
      data: null,
      errors: ['refused by the global pipe (body, text)'],
      thrown: ['GraphQLError'],
      trace: ['guard graphql ItemsResolver.echo'],
    });
  });

  it('awaits a resolver’s promise, and takes an Observable’s last value', async () => {
    expect((await run('{ later(text: "x") observed }')).data).toEqual({ later: 'later x', observed: 'last' });
  });

  it('reports what a resolver throws or rejects with', async () => {
    expect(await run('{ fails }')).toEqual({ data: null, errors: ['the resolver threw'], thrown: ['GraphQLError'], trace: ['guard graphql ItemsResolver.fails'] });
    expect(await run('{ rejects }')).toEqual({ data: null, errors: ['the resolver rejected'], thrown: ['GraphQLError'], trace: ['guard graphql ItemsResolver.rejects'] });
  });

  it('hands an error to the resolver’s exception filter', async () => {
    expect((await run('{ filtered }')).errors).toEqual(['filtered: raw failure']);
  });

  it('runs a resolver’s interceptor around it', async () => {
    expect(await run('{ intercepted }')).toEqual({ data: { intercepted: '[value]' }, trace: ['guard graphql ItemsResolver.intercepted', 'interceptor', 'intercepted'] });
  });

  it('gives custom parameter decorators their value, computed after the guards', async () => {
    expect((await run('{ traced }')).data).toEqual({ traced: 1 });
  });

  it('answers with the first parameter’s error and leaves no other one unhandled', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      expect((await run('{ mixed(text: "x") }')).errors).toEqual(['the decorator threw']);
      // The pipe rejects on a later turn of the event loop; an unhandled rejection is reported after it.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('resolves fields of the returned object, and request-scoped resolvers', async () => {
    expect((await run('{ item { name label } scoped }')).data).toEqual({ item: { name: 'box', label: 'label of box' }, scoped: true });
  });

  it(eager ? 'answers without a promise when nothing on the way is asynchronous' : 'answers with a promise, always', () => {
    const echo = schema.getQueryType()!.getFields().echo;
    const answer = echo.resolve!(undefined, { text: ' now ' }, { guard: 'allow', trace: [] }, {} as never);
    if (eager) expect(answer).toBe('now');
    else expect(answer).toBeInstanceOf(Promise);
  });
});

describe('EagerContextCreator where it cannot read what Nest chose', () => {
  it('hands out Nest’s own callback, and warns once', () => {
    // A Nest whose `create` no longer reports its enhancers through the methods EagerContextCreator watches.
    const nestCallback = async () => 'from Nest';
    const nest = { create: () => nestCallback } as unknown as ExternalContextCreator;
    const creator = new EagerContextCreator(nest);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const resolver = { constructor: class Resolver {} };
      expect(creator.create(resolver, () => 'eager', 'first')).toBe(nestCallback);
      expect(creator.create(resolver, () => 'eager', 'second')).toBe(nestCallback);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/Could not read the enhancers Nest chose for Resolver\.first/);
    } finally {
      warn.mockRestore();
    }
  });
});
