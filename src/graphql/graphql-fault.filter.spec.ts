import { ForbiddenException, InternalServerErrorException, Logger } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { GraphQLError, GraphQLResolveInfo } from 'graphql';
import { BadUserInputError } from '../common/app-errors';
import { CapturingLogger } from '../../test/support/capturing-logger';
import { formatGraphQLError } from './format-error';
import { GraphqlFaultFilter } from './graphql-fault.filter';

/** A resolver's arguments as Nest passes them for field `appSettings.values`, typed `graphql`. */
function resolverHost(): ExecutionContextHost {
  const info = { path: { prev: { prev: undefined, key: 'appSettings', typename: 'Query' }, key: 'values', typename: 'AppSettings' } } as unknown as GraphQLResolveInfo;
  const host = new ExecutionContextHost([{}, {}, {}, info]);
  host.setType('graphql');
  return host;
}

/** What graphql-js and Apollo then hand the formatter for that error. */
function formatted(error: Error) {
  const located = new GraphQLError(error.message, { path: ['appSettings', 'values'], originalError: error });
  return formatGraphQLError(located.toJSON(), located);
}

describe('GraphqlFaultFilter', () => {
  const logger = new CapturingLogger();
  const filter = new GraphqlFaultFilter();
  // Jest gives each test file its own module registry, so this override ends with the file.
  beforeAll(() => Logger.overrideLogger(logger));
  beforeEach(() => logger.lines.splice(0));

  it('logs a fault when the resolver throws it, with its path and stack, and rethrows it; the formatter does not log it again', () => {
    const fault = new Error('the disk is on fire');
    expect(() => filter.catch(fault, resolverHost())).toThrow(fault);
    expect(logger.lines).toEqual([expect.stringMatching(/^error Unexpected error at appSettings\.values: Error: the disk is on fire\n\s+at /)]);

    expect(formatted(fault)).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(logger.lines).toHaveLength(1);
  });

  it('rethrows a client mistake and an HttpException without logging them', () => {
    const mistake = new BadUserInputError('Invalid input', []);
    const refusal = new ForbiddenException();
    expect(() => filter.catch(mistake, resolverHost())).toThrow(mistake);
    expect(() => filter.catch(refusal, resolverHost())).toThrow(refusal);
    expect(logger.lines).toEqual([]);
  });

  it('logs an HttpException of a status the contract does not name, such as 500, as the fault it is', () => {
    const fault = new InternalServerErrorException('pool exhausted');
    expect(() => filter.catch(fault, resolverHost())).toThrow(fault);
    expect(formatted(fault)).toMatchObject({ extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(logger.lines).toEqual([expect.stringMatching(/^error Unexpected error at appSettings\.values: InternalServerErrorException: pool exhausted/)]);
  });

  it('leaves a fault no filter saw (say, in a field resolver) for the formatter to log, once per answer', () => {
    const fault = new Error('a field went wrong');
    formatted(fault);
    expect(logger.lines).toEqual([expect.stringMatching(/^error Unexpected error at appSettings\.values: Error: a field went wrong/)]);
    formatted(fault);
    expect(logger.lines).toHaveLength(2);
  });

  it('logs one error object that fails two requests (a shared load, a constant) once for each, however the answers interleave', () => {
    const fault = new Error('the shared load failed');
    expect(() => filter.catch(fault, resolverHost())).toThrow(fault);
    expect(() => filter.catch(fault, resolverHost())).toThrow(fault);
    formatted(fault);
    formatted(fault);
    expect(logger.lines).toHaveLength(2);

    // The next request it fails is logged again.
    expect(() => filter.catch(fault, resolverHost())).toThrow(fault);
    formatted(fault);
    expect(logger.lines).toHaveLength(3);
  });

  it('does not log a GraphQLError a resolver throws with a framework code such as BAD_USER_INPUT, as graphql-js would not', () => {
    const mistake = new GraphQLError('limit must be positive', { extensions: { code: 'BAD_USER_INPUT' } });
    expect(() => filter.catch(mistake, resolverHost())).toThrow(mistake);
    expect(formatted(mistake)).toMatchObject({ message: 'limit must be positive', extensions: { code: 'BAD_USER_INPUT' } });
    expect(logger.lines).toEqual([]);
  });

  it('logs a frozen fault it cannot count, and the formatter logs it again rather than not at all', () => {
    const fault = Object.freeze(new Error('frozen'));
    expect(() => filter.catch(fault, resolverHost())).toThrow(fault);
    formatted(fault);
    expect(logger.lines).toEqual([expect.stringContaining('Error: frozen'), expect.stringContaining('Error: frozen')]);
  });

  it('only rethrows in a context that is neither GraphQL nor HTTP, where it has no path to name but still logs the fault', () => {
    const host = new ExecutionContextHost([{}, {}]);
    host.setType('rpc');
    const fault = new Error('in a message handler');
    expect(() => filter.catch(fault, host)).toThrow(fault);
    expect(logger.lines).toEqual([expect.stringMatching(/^error Unexpected error at rpc: Error: in a message handler/)]);
  });
});
