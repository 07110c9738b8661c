import { DynamicModule, Module } from '@nestjs/common';
import { CompiledQueryExecutor } from './compiled-query-executor';
import { GraphqlContext } from './graphql-context';
import { GraphqlModuleOptions } from './graphql-module.options';

/**
 * Provides the executor Apollo runs HTTP operations with (see
 * CompiledQueryExecutor). Only an authenticated caller's queries are
 * compiled: compiling costs the server time and memory, and an anonymous
 * caller may only log in. A context that does not say who called (none
 * reaches Apollo today) counts as anonymous.
 */
@Module({})
export class CompiledQueryExecutorModule {
  static forRoot(options: GraphqlModuleOptions = {}): DynamicModule {
    const mayCompile = options.compileQueries === false ? () => false : isAuthenticated;
    return {
      module: CompiledQueryExecutorModule,
      providers: [{ provide: CompiledQueryExecutor, useFactory: () => new CompiledQueryExecutor({ mayCompile }) }],
      exports: [CompiledQueryExecutor],
    };
  }
}

function isAuthenticated(context: unknown): boolean {
  return (context as Partial<GraphqlContext> | undefined)?.principal != null;
}
