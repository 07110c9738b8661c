import {
  IsBooleanString,
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsOptional,
  Matches,
  MinLength,
  ValidateIf,
  ValidationArguments,
} from 'class-validator';

const INTEGER = /^\d+$/;
/** A duration: bare milliseconds (`1500`) or a number with a unit (`500ms`, `1s`, `2m`). */
export const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;
const BOOLEAN_VALUES = ['true', 'false', '1', '0'];

const got = (args: ValidationArguments) => `(got "${String(args.value)}")`;

/**
 * The raw environment as strings, with the rules each variable must meet.
 * Every message names the variable and says what is wrong with the value.
 */
export class EnvironmentVariables {
  @IsOptional()
  @Matches(INTEGER, { message: (a) => `${a.property} must be a port number between 1 and 65535 ${got(a)}` })
  APPSERVER_PORT?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, {
    message: (a) => `${a.property} must be 1-64 characters of letters, digits, ".", "_" or "-" ${got(a)}`,
  })
  APPSERVER_INSTANCE_ID?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: (a) => `${a.property} must be a PostgreSQL URL such as postgres://user@host:5432/db ${got(a)}`,
  })
  APPSERVER_DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message: (a) => `${a.property} must be a Redis URL such as redis://127.0.0.1:6379 ${got(a)}`,
  })
  APPSERVER_REDIS_URL?: string;

  @IsOptional()
  @IsIn(BOOLEAN_VALUES, { message: (a) => `${a.property} must be true or false ${got(a)}` })
  APPSERVER_EVENTBUS_ENABLED?: string;

  @IsOptional()
  @IsIn(BOOLEAN_VALUES, { message: (a) => `${a.property} must be true or false ${got(a)}` })
  APPSERVER_EVENTBUS_TEST_MODE?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, {
    message: (a) => `${a.property} must be 1-64 characters of letters, digits, ".", "_" or "-" ${got(a)}`,
  })
  APPSERVER_EVENTBUS_NAMESPACE?: string;

  @IsOptional()
  @Matches(/^amqps?:\/\/\S+$/, {
    message: (a) => `${a.property} must be an AMQP URL such as amqp://guest:guest@127.0.0.1:5672 ${got(a)}`,
  })
  APPSERVER_RABBITMQ_URL?: string;

  @IsOptional()
  @IsNotEmpty({ message: (a) => `${a.property} must not be empty` })
  APPSERVER_RABBITMQ_VHOST?: string;

  @IsOptional()
  @Matches(INTEGER, { message: (a) => `${a.property} must be a whole number from 0 to 20 ${got(a)}` })
  APPSERVER_RABBITMQ_MAX_RETRIES?: string;

  @IsOptional()
  @Matches(DURATION, {
    message: (a) => `${a.property} must be a duration such as 500ms, 1s or 2m ${got(a)}`,
  })
  APPSERVER_RABBITMQ_RETRY_DELAY?: string;

  @IsOptional()
  @Matches(INTEGER, { message: (a) => `${a.property} must be a whole number from 1 to 65535 ${got(a)}` })
  APPSERVER_RABBITMQ_PREFETCH_COUNT?: string;

  @IsOptional()
  @Matches(DURATION, {
    message: (a) => `${a.property} must be a duration such as 500ms, 30s or 2m ${got(a)}`,
  })
  APPSERVER_RABBITMQ_CONSUMER_TIMEOUT?: string;

  @IsOptional()
  @IsBooleanString({ message: (a) => `${a.property} must be true or false ${got(a)}` })
  APPSERVER_RABBITMQ_QUEUE_DURABLE?: string;

  @IsOptional()
  @IsBooleanString({ message: (a) => `${a.property} must be true or false ${got(a)}` })
  APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE?: string;

  @ValidateIf((env: EnvironmentVariables) => env.APPSERVER_ADMIN_PASSWORD !== undefined || env.APPSERVER_ADMIN_EMAIL !== undefined)
  @IsEmail(
    {},
    {
      message: (a) =>
        a.value === undefined
          ? `${a.property} must be set when APPSERVER_ADMIN_PASSWORD is set`
          : `${a.property} must be an email address ${got(a)}`,
    },
  )
  APPSERVER_ADMIN_EMAIL?: string;

  @ValidateIf((env: EnvironmentVariables) => env.APPSERVER_ADMIN_EMAIL !== undefined || env.APPSERVER_ADMIN_PASSWORD !== undefined)
  @MinLength(12, { message: (a) => `${a.property} must be at least 12 characters (it is required when APPSERVER_ADMIN_EMAIL is set)` })
  APPSERVER_ADMIN_PASSWORD?: string;
}

export const KNOWN_VARIABLES: ReadonlyArray<keyof EnvironmentVariables> = [
  'APPSERVER_PORT',
  'APPSERVER_INSTANCE_ID',
  'APPSERVER_DATABASE_URL',
  'APPSERVER_REDIS_URL',
  'APPSERVER_EVENTBUS_ENABLED',
  'APPSERVER_EVENTBUS_TEST_MODE',
  'APPSERVER_EVENTBUS_NAMESPACE',
  'APPSERVER_RABBITMQ_URL',
  'APPSERVER_RABBITMQ_VHOST',
  'APPSERVER_RABBITMQ_MAX_RETRIES',
  'APPSERVER_RABBITMQ_RETRY_DELAY',
  'APPSERVER_RABBITMQ_PREFETCH_COUNT',
  'APPSERVER_RABBITMQ_CONSUMER_TIMEOUT',
  'APPSERVER_RABBITMQ_QUEUE_DURABLE',
  'APPSERVER_RABBITMQ_QUEUE_AUTO_DELETE',
  'APPSERVER_ADMIN_EMAIL',
  'APPSERVER_ADMIN_PASSWORD',
];
