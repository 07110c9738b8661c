import { DynamicModule, Module } from '@nestjs/common';
import { CompiledQueryExecutor } from './compiled-query-executor';
import { GraphqlContext } from './graphql-context';

export interface CompiledQueriesOptions {
  /** false: every operation runs through graphql-js (bench:cache measures the difference); default true. */
  readonly compileQueries?: boolean;
}

/**
 * Provides the executor Apollo runs HTTP operations with (see
 * CompiledQueryExecutor). Only an authenticated caller's queries are
 * compiled: compiling costs the server time and memory, and an anonymous
 * caller may only log in.
 */
@Module({})
export class CompiledQueryExecutorModule {
  static forRoot(options: CompiledQueriesOptions = {}): DynamicModule {
    const mayCompile = options.compileQueries === false ? () => false : (context: unknown) => (context as GraphqlContext).principal !== null;
    return {
      module: CompiledQueryExecutorModule,
      providers: [{ provide: CompiledQueryExecutor, useFactory: () => new CompiledQueryExecutor({ mayCompile }) }],
      exports: [CompiledQueryExecutor],
    };
  }
}
