import { ArgumentMetadata, CanActivate, ForbiddenException, Logger, NestInterceptor, PipeTransform } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { FORBIDDEN_MESSAGE } from '@nestjs/core/guards/constants';
import { GuardsConsumer } from '@nestjs/core/guards/guards-consumer';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { STATIC_CONTEXT } from '@nestjs/core/injector/constants';
import { ParamsTokenFactory } from '@nestjs/core/pipes/params-token-factory';
import { isObservable, lastValueFrom } from 'rxjs';
import { isThenable } from '../event-bus/concurrency';

type Callback = (...args: unknown[]) => unknown;
type CreateArguments = Parameters<ExternalContextCreator['create']>;

/** One parameter of a handler as Nest resolved it (ExternalContextCreator's `paramsOptions`). */
interface HandlerParam {
  readonly index: number;
  readonly type: number | string;
  readonly data: unknown;
  readonly metatype?: unknown;
  readonly pipes: PipeTransform[];
  readonly extractValue: (...args: unknown[]) => unknown;
}

/** What handles a handler's exceptions (Nest's ExternalExceptionsHandler: the filters, else log and rethrow). */
interface ExceptionsHandler {
  next(exception: unknown, host: ExecutionContextHost): unknown;
}

/** The enhancers Nest chose for one handler, as its own `create` found them. */
interface Enhancers {
  guards?: CanActivate[];
  pipes?: PipeTransform[];
  params?: HandlerParam[];
  interceptors?: NestInterceptor[];
  exceptionsHandler?: ExceptionsHandler;
}

/**
 * The members of Nest's ExternalContextCreator that its `create` reaches
 * through `this` and that name what it decided: overridden on a view of it,
 * they report those decisions (see `enhancersOf`).
 */
interface NestCreatorView {
  create(...args: CreateArguments): Callback;
  createGuardsFn(guards: CanActivate[], ...rest: unknown[]): unknown;
  createPipesFn(pipes: PipeTransform[], params: HandlerParam[]): unknown;
  interceptorsContextCreator: { create(...args: unknown[]): NestInterceptor[] };
  externalErrorProxy: { createProxy(target: Callback, handler: ExceptionsHandler, type?: string): Callback };
  getMetadata(...args: unknown[]): { argsLength: number };
}

const ALL_ENHANCERS = { guards: true, interceptors: true, filters: true };

/**
 * The ExternalContextCreator of the GraphQL module: it runs each resolver
 * with the guards, pipes and exception filters Nest chose for it, in Nest's
 * order and with Nest's results, but awaits only what is a promise.
 *
 * Why: Nest wraps every resolver in about a dozen async functions (the error
 * proxy, the guards, the interceptors, each parameter and each pipe), so even
 * a resolver that answers from L1 hands graphql-js a promise, and the request
 * pays for those promises, their ticks and graphql-js's asynchronous
 * completion: measured, 35 µs of the 50 µs that `appSettings` from L1 cost
 * over `{ __typename }` (README, "Benchmarks"). The upstream fast path
 * (@nestjs/graphql, scalar `@ResolveField`s without enhancers) does not cover
 * queries and mutations, which always have the global guard.
 *
 * Which enhancers apply is still decided by Nest's own `create`, called on a
 * view of Nest's creator that records what it found (module keys, transient
 * and global enhancers: nothing of that is copied here). A resolver with
 * interceptors (rxjs streams, asynchronous by nature), a request-scoped one,
 * or any case where the view records nothing — a Nest version whose internals
 * differ — gets Nest's callback unchanged, and the boot logs a warning for the
 * last: slower, never different.
 */
export class EagerContextCreator {
  private readonly logger = new Logger(EagerContextCreator.name);
  private readonly guardsConsumer = new GuardsConsumer();
  private readonly paramsTokenFactory = new ParamsTokenFactory();
  private warnedAboutInternals = false;

  constructor(private readonly nest: ExternalContextCreator) {}

  create(...createArguments: CreateArguments): Callback {
    const [instance, callback, methodName, metadataKey, paramsFactory, contextId, , options = ALL_ENHANCERS, contextType] = createArguments;
    if (contextId !== undefined && contextId !== STATIC_CONTEXT) return this.nest.create(...createArguments);
    const { standard, enhancers } = this.enhancersOf(createArguments);
    const complete =
      enhancers.pipes !== undefined &&
      enhancers.params !== undefined &&
      (enhancers.guards !== undefined || options.guards === false) &&
      (enhancers.exceptionsHandler !== undefined || options.filters === false) &&
      (enhancers.interceptors !== undefined || !options.interceptors);
    if (!complete) {
      this.warnOnceAboutInternals(`${instance.constructor.name}.${methodName}`);
      return standard;
    }
    if (enhancers.interceptors?.length) return standard;
    const view = this.nest as unknown as NestCreatorView;
    const { argsLength } = view.getMetadata(instance, methodName, metadataKey, paramsFactory, contextType);
    return this.eager(instance, callback as Callback, argsLength, enhancers, contextType ?? 'http');
  }

  /** Nest's own callback for the handler, and the enhancers its `create` chose on the way. */
  private enhancersOf(createArguments: CreateArguments): { standard: Callback; enhancers: Enhancers } {
    const nest = this.nest as unknown as NestCreatorView;
    const enhancers: Enhancers = {};
    const view = Object.create(nest) as NestCreatorView;
    view.createGuardsFn = (guards, ...rest) => {
      enhancers.guards = guards;
      return nest.createGuardsFn(guards, ...rest);
    };
    view.createPipesFn = (pipes, params) => {
      enhancers.pipes = pipes;
      enhancers.params = params;
      return nest.createPipesFn(pipes, params);
    };
    if (nest.interceptorsContextCreator && nest.externalErrorProxy) {
      view.interceptorsContextCreator = { create: (...args) => (enhancers.interceptors = nest.interceptorsContextCreator.create(...args)) };
      view.externalErrorProxy = {
        createProxy: (target, handler, type) => {
          enhancers.exceptionsHandler = handler;
          return nest.externalErrorProxy.createProxy(target, handler, type);
        },
      };
    }
    const standard = nest.create.apply(view, createArguments);
    return { standard, enhancers };
  }

  /**
   * Guards in order (the first `false` refuses with Nest's ForbiddenException),
   * then each parameter through the global and its own pipes, then the
   * handler; an Observable result is taken to its last value, as Nest does.
   * Any of them may return a promise, and from there on it is awaited; any
   * error goes to the exception filters, as Nest's error proxy does.
   */
  private eager(instance: object, callback: Callback, argsLength: number, enhancers: Enhancers, contextType: string): Callback {
    const guards = enhancers.guards ?? [];
    const globalPipes = enhancers.pipes ?? [];
    // Per parameter, once: the global pipes then its own, and the metadata each pipe gets (as Nest's PipesConsumer builds it).
    const params = (enhancers.params ?? []).map((param) => ({
      ...param,
      pipes: globalPipes.concat(param.pipes),
      metadata: { metatype: param.metatype, type: this.paramsTokenFactory.exchangeEnumForString(param.type as never), data: param.data } as ArgumentMetadata,
    }));
    const { exceptionsHandler } = enhancers;
    const guardsConsumer = this.guardsConsumer;

    const activate = (context: ExecutionContextHost, from: number): void | Promise<void> => {
      for (let index = from; index < guards.length; index++) {
        const verdict = guards[index].canActivate(context);
        if (typeof verdict !== 'boolean') {
          return guardsConsumer.pickResult(verdict).then((allowed) => {
            if (!allowed) throw new ForbiddenException(FORBIDDEN_MESSAGE);
            return activate(context, index + 1);
          });
        }
        if (!verdict) throw new ForbiddenException(FORBIDDEN_MESSAGE);
      }
    };

    const transform = (value: unknown, param: (typeof params)[number], from: number): unknown => {
      for (let index = from; index < param.pipes.length; index++) {
        if (isThenable(value)) return Promise.resolve(value).then((settled) => transform(settled, param, index));
        value = param.pipes[index].transform(value, param.metadata);
      }
      return value;
    };

    const handlerArguments = (args: unknown[]): unknown[] | Promise<unknown[]> => {
      const values: unknown[] = new Array(argsLength).fill(undefined);
      let pending: Promise<void>[] | undefined;
      for (const param of params) {
        let value: unknown;
        try {
          value = transform(param.extractValue(...args), param, 0);
        } catch (error) {
          // This error is the answer; the parameters still pending must not fail unhandled (the process would exit).
          if (pending) void Promise.allSettled(pending);
          throw error;
        }
        if (isThenable(value)) (pending ??= []).push(Promise.resolve(value).then((settled) => void (values[param.index] = settled)));
        else values[param.index] = value;
      }
      return pending ? Promise.all(pending).then(() => values) : values;
    };

    const call = (args: unknown[]): unknown => {
      if (params.length === 0) return callback.apply(instance, args);
      const values = handlerArguments(args);
      return values instanceof Promise ? values.then((settled) => callback.apply(instance, settled)) : callback.apply(instance, values);
    };

    const guardContext = (args: unknown[]): ExecutionContextHost => {
      const context = guardsConsumer.createContext(args, instance, callback);
      context.setType(contextType);
      return context;
    };

    const run = (args: unknown[]): unknown => {
      const activated = guards.length ? activate(guardContext(args), 0) : undefined;
      const result = activated instanceof Promise ? activated.then(() => call(args)) : call(args);
      if (isThenable(result)) return Promise.resolve(result).then(toResult);
      return toResult(result);
    };

    const handle = (error: unknown, args: unknown[]): unknown => {
      if (!exceptionsHandler) throw error;
      const host = new ExecutionContextHost(args);
      host.setType(contextType);
      return exceptionsHandler.next(error, host);
    };

    return (...args: unknown[]): unknown => {
      let result: unknown;
      try {
        result = run(args);
      } catch (error) {
        return handle(error, args);
      }
      return result instanceof Promise ? result.catch((error: unknown) => handle(error, args)) : result;
    };
  }

  private warnOnceAboutInternals(handler: string): void {
    if (this.warnedAboutInternals) return;
    this.warnedAboutInternals = true;
    this.logger.warn(
      `Could not read the enhancers Nest chose for ${handler} (its ExternalContextCreator has changed): ` +
        'resolvers run through Nest’s own asynchronous wrapper, correct but slower',
    );
  }
}

/** Nest's `transformToResult`: a handler's Observable counts as its last value. */
function toResult(result: unknown): unknown {
  return isObservable(result) ? lastValueFrom(result) : result;
}
