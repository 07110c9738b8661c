import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { buildSchema, GraphQLError, parse, validate } from 'graphql';
import { BadUserInputError } from '../common/app-errors';
import { CapturingLogger } from '../../test/support/capturing-logger';
import { formatGraphQLError, formatOperationErrors, isClientMistake } from './format-error';

/** What graphql-js and Apollo hand the formatter for an error a resolver of field `app` threw. */
function formatted(error: Error) {
  const located = new GraphQLError(error.message, { path: ['app'], originalError: error });
  return formatGraphQLError(located.toJSON(), located);
}

describe('formatGraphQLError', () => {
  const logger = new CapturingLogger();
  // Jest gives each test file its own module registry, so this override ends with the file.
  beforeAll(() => Logger.overrideLogger(logger));
  beforeEach(() => logger.lines.splice(0));

  it("answers Nest's HTTP exceptions of the statuses the contract names with its codes and their messages, and logs none", () => {
    const answers = [
      new BadRequestException('appName is missing'),
      new UnprocessableEntityException('cannot be processed'),
      new UnauthorizedException('who are you?'),
      // What Nest throws when a guard returns false.
      new ForbiddenException('Forbidden resource'),
      new NotFoundException('No app named "x"'),
      new ConflictException('already installed'),
    ].map(formatted);

    expect(answers).toEqual([
      { message: 'appName is missing', path: ['app'], extensions: { code: 'BAD_USER_INPUT', fields: [] } },
      { message: 'cannot be processed', path: ['app'], extensions: { code: 'BAD_USER_INPUT', fields: [] } },
      { message: 'who are you?', path: ['app'], extensions: { code: 'UNAUTHENTICATED' } },
      { message: 'Forbidden resource', path: ['app'], extensions: { code: 'FORBIDDEN' } },
      { message: 'No app named "x"', path: ['app'], extensions: { code: 'NOT_FOUND' } },
      { message: 'already installed', path: ['app'], extensions: { code: 'CONFLICT' } },
    ]);
    expect(logger.lines).toEqual([]);
  });

  it('never sends the text of an error an HTTP exception was built around, and turns a list of reasons into BAD_USER_INPUT fields', () => {
    const driverError = new Error('duplicate key value violates unique constraint "users_email_key"');
    expect(formatted(new BadRequestException(driverError))).toEqual({ message: 'Invalid input', path: ['app'], extensions: { code: 'BAD_USER_INPUT', fields: [] } });
    expect(formatted(new ConflictException(driverError))).toEqual({ message: 'Conflict', path: ['app'], extensions: { code: 'CONFLICT' } });
    // As Nest's own ValidationPipe throws it.
    expect(formatted(new BadRequestException(['name must be shorter', 'version must be semver']))).toEqual({
      message: 'Invalid input: name must be shorter; version must be semver',
      path: ['app'],
      extensions: {
        code: 'BAD_USER_INPUT',
        fields: [
          { field: '', reason: 'name must be shorter' },
          { field: '', reason: 'version must be semver' },
        ],
      },
    });
    expect(formatted(new NotFoundException({ message: 'No such app', app: 'x' }))).toEqual({ message: 'No such app', path: ['app'], extensions: { code: 'NOT_FOUND' } });
    expect(formatted(new NotFoundException())).toEqual({ message: 'Not Found', path: ['app'], extensions: { code: 'NOT_FOUND' } });
    expect(logger.lines).toEqual([]);
  });

  it('treats an HTTP exception of any other status as a fault: internal to the client, logged with its stack', () => {
    const faults = [new InternalServerErrorException('pool exhausted'), new ServiceUnavailableException('down'), new HttpException('slow down', 429)];
    expect(faults.map(formatted)).toEqual(faults.map(() => ({ message: 'Internal server error', path: ['app'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })));
    expect(logger.lines).toEqual([
      expect.stringMatching(/^error Unexpected error at app: InternalServerErrorException: pool exhausted\n\s+at /),
      expect.stringMatching(/^error Unexpected error at app: ServiceUnavailableException: down\n\s+at /),
      expect.stringMatching(/^error Unexpected error at app: HttpException: slow down\n\s+at /),
    ]);
  });

  it('names the same errors client mistakes as GraphqlFaultFilter asks', () => {
    const framework = new GraphQLError('limit must be positive', { extensions: { code: 'BAD_USER_INPUT' } });
    expect([new BadUserInputError('bad', []), new NotFoundException(), new ForbiddenException(), framework].map(isClientMistake)).toEqual([true, true, true, true]);
    const uncoded = new GraphQLError('no code');
    expect([new Error('disk'), new InternalServerErrorException(), new HttpException('slow down', 429), uncoded, 'text'].map(isClientMistake)).toEqual([false, false, false, false, false]);
  });

  describe('formatOperationErrors (graphql-ws error messages)', () => {
    it('calls the errors of a query that does not validate GRAPHQL_VALIDATION_FAILED, and logs nothing', () => {
      const errors = validate(buildSchema('type Query { a: Int }'), parse('{ b }'));
      expect(formatOperationErrors(errors)).toEqual([
        { message: 'Cannot query field "b" on type "Query". Did you mean "a"?', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
      ]);
      expect(logger.lines).toEqual([]);
    });

    it("answers an error a subscription's stream threw, as graphql-ws wraps it, like any resolver's: a fault internal and logged, a mistake by its code", () => {
      // What graphql-ws hands onError when iterating the stream fails.
      const wrapped = (error: Error) => new GraphQLError(error.message, { originalError: error });
      expect(formatOperationErrors([wrapped(new Error('the bus went away')), wrapped(new BadUserInputError('bad filter', []))])).toEqual([
        { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
        { message: 'bad filter', extensions: { code: 'BAD_USER_INPUT', fields: [] } },
      ]);
      expect(logger.lines).toEqual([expect.stringMatching(/^error Unexpected error at request: Error: the bus went away\n\s+at /)]);
    });
  });
});
