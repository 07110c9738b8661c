import 'reflect-metadata';
import { ArgumentMetadata } from '@nestjs/common';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { BadUserInputError } from '../common/app-errors';
import { RegisterAppInput } from '../apps/dto/register-app.input';
import { AppSettingsArgs, UpdateAppSettingsArgs } from '../settings/dto/update-app-settings.args';
import { CreateUserInput } from '../users/dto/create-user.input';
import { createValidationPipe } from './validation.pipe';

/** A flat argument class with a default, as a paging argument would be. */
class PageArgs {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number = 20;
}

const argsOf = (metatype: Function): ArgumentMetadata => ({ type: 'body', metatype: metatype as ArgumentMetadata['metatype'] });

/** The problems a refusal lists, as a client sees them in extensions. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BadUserInputError);
  return (error as BadUserInputError).details;
}

describe('createValidationPipe', () => {
  const pipe = createValidationPipe();

  it('passes valid arguments as an instance of their class, the same on every call', async () => {
    for (let i = 0; i < 3; i++) {
      const args = await pipe.transform({ appName: 'de.easy-m.todos' }, argsOf(AppSettingsArgs));
      expect(args).toBeInstanceOf(AppSettingsArgs);
      expect(args).toEqual({ appName: 'de.easy-m.todos' });
    }
    const input = await pipe.transform({ name: 'de.easy-m.todos', version: '1.0.0', settingsSchema: { type: 'object' } }, argsOf(RegisterAppInput));
    expect(input).toBeInstanceOf(RegisterAppInput);
  });

  it('answers valid flat arguments at once, not in a promise, so the resolver need not wait for them', () => {
    const args = pipe.transform({ appName: 'de.easy-m.todos' }, argsOf(AppSettingsArgs));
    expect(args).toBeInstanceOf(AppSettingsArgs);
    expect(args).toEqual({ appName: 'de.easy-m.todos' });
  });

  it('hands on at once, as they are, the arguments it does not validate: primitives and custom decorators’ values', () => {
    const principal = { kind: 'user' };
    expect(pipe.transform('de.easy-m.todos', { type: 'body', metatype: String, data: 'appName' })).toBe('de.easy-m.todos');
    expect(pipe.transform(principal, { type: 'custom', metatype: Object })).toBe(principal);
    expect(pipe.transform(undefined, { type: 'body', metatype: undefined, data: 'limit' })).toBeUndefined();
  });

  it('refuses invalid arguments with every field and reason, valid ones of the same class before and after', async () => {
    await pipe.transform({ appName: 'de.easy-m.todos' }, argsOf(AppSettingsArgs));
    expect(await refusal(pipe.transform({ appName: 'Not An App' }, argsOf(AppSettingsArgs)))).toEqual({
      fields: [{ field: 'appName', reason: 'appName must be a reverse-DNS name such as de.easy-m.todos' }],
    });
    expect(await refusal(pipe.transform({ appName: `de.${'a'.repeat(200)}` }, argsOf(AppSettingsArgs)))).toEqual({
      fields: [{ field: 'appName', reason: 'appName must be shorter than or equal to 200 characters' }],
    });
    expect(await refusal(pipe.transform({ appName: 'de.easy-m.todos', values: [1] }, argsOf(UpdateAppSettingsArgs)))).toEqual({
      fields: [{ field: 'values', reason: 'values must be a JSON object' }],
    });
    expect(await pipe.transform({ appName: 'de.easy-m.todos' }, argsOf(AppSettingsArgs))).toEqual({ appName: 'de.easy-m.todos' });
  });

  it('refuses a property the class does not declare', async () => {
    expect(await refusal(pipe.transform({ appName: 'de.easy-m.todos', extra: 1 }, argsOf(AppSettingsArgs)))).toEqual({
      fields: [{ field: 'extra', reason: 'property extra should not exist' }],
    });
  });

  it('validates classes with transformed fields after the transformation, as class-validator does', async () => {
    const input = await pipe.transform({ email: '  Ada@Example.TEST ', password: 'a long enough password' }, argsOf(CreateUserInput));
    expect(input).toMatchObject({ email: 'ada@example.test' });
    expect(await refusal(pipe.transform({ email: 'not an email', password: 'a long enough password' }, argsOf(CreateUserInput)))).toMatchObject({
      fields: [expect.objectContaining({ field: 'email' })],
    });
  });

  it('builds flat arguments as their class would be built: defaults kept, given values set, each call a new instance', async () => {
    const defaulted = await pipe.transform({}, argsOf(PageArgs));
    expect(defaulted).toBeInstanceOf(PageArgs);
    expect(defaulted).toEqual({ limit: 20 });
    const given = await pipe.transform({ limit: 5 }, argsOf(PageArgs));
    expect(given).toEqual({ limit: 5 });
    expect(given).not.toBe(await pipe.transform({ limit: 5 }, argsOf(PageArgs)));
    expect(await refusal(pipe.transform({ limit: 500 }, argsOf(PageArgs)))).toEqual({
      fields: [{ field: 'limit', reason: 'limit must not be greater than 100' }],
    });
  });

  it('drops a __proto__ key, as the whole pipe does, without touching any prototype', async () => {
    const value = JSON.parse('{"appName":"de.easy-m.todos","__proto__":{"polluted":true}}') as object;
    const args = await pipe.transform(value, argsOf(AppSettingsArgs));
    expect(args).toBeInstanceOf(AppSettingsArgs);
    expect(Object.keys(args)).toEqual(['appName']);
    expect((args as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
