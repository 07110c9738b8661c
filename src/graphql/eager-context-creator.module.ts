import { Module } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { EagerContextCreator } from './eager-context-creator';

/** Nest's own ExternalContextCreator (its core module's, global), under a token of its own. */
const NEST_CONTEXT_CREATOR = Symbol('NestExternalContextCreator');

/** Looks the global creator up from a module that does not provide one itself. */
@Module({
  providers: [{ provide: NEST_CONTEXT_CREATOR, useExisting: ExternalContextCreator }],
  exports: [NEST_CONTEXT_CREATOR],
})
class NestContextCreatorModule {}

/**
 * Provides EagerContextCreator as the ExternalContextCreator of the module
 * that imports it: imported by @nestjs/graphql's GraphQLModule (the `imports`
 * of `forRootAsync`), where Nest's resolver explorer injects it, so every
 * resolver runs eagerly (see EagerContextCreator) and nothing else in the
 * application changes. Nest looks a dependency up in a module's imports
 * before the global modules, in order.
 */
@Module({
  imports: [NestContextCreatorModule],
  providers: [{ provide: ExternalContextCreator, useFactory: (nest: ExternalContextCreator) => new EagerContextCreator(nest), inject: [NEST_CONTEXT_CREATOR] }],
  exports: [ExternalContextCreator],
})
export class EagerContextCreatorModule {}
