import { Module } from '@nestjs/common';
import { CompiledQueryExecutor } from './compiled-query-executor';
import { GraphqlContext } from './graphql-context';

/**
 * Provides the executor Apollo runs HTTP operations with (see
 * CompiledQueryExecutor). Only an authenticated caller's queries are
 * compiled: compiling costs the server time and memory, and an anonymous
 * caller may only log in.
 */
@Module({
  providers: [
    {
      provide: CompiledQueryExecutor,
      useFactory: () => new CompiledQueryExecutor({ mayCompile: (context) => (context as GraphqlContext).principal !== null }),
    },
  ],
  exports: [CompiledQueryExecutor],
})
export class CompiledQueryExecutorModule {}
