/** Options of `GraphqlModule.forRoot` (AppModuleOptions.graphql); production runs with the defaults. */
export interface GraphqlModuleOptions {
  /**
   * false: every query runs through graphql-js, none is compiled (see
   * CompiledQueryExecutor). For bench:cache's peer server; an operator has no
   * switch for it. Default true.
   */
  readonly compileQueries?: boolean;
}
