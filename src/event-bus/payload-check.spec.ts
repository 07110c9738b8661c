import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { getMetadataStorage, IsDefined, IsInt, IsOptional, IsString, MaxLength, registerDecorator, ValidateNested } from 'class-validator';
import { EVENT_CATALOG, EventPayloadMap, EventType } from './event-catalog';
import { EventDefinition, validatePayload } from './event-definition';
import { compilePayloadCheck } from './payload-check';

const UUID = '0190a5f2-7b8c-7d3e-9f01-23456789abcd';
const TIME = '2026-11-22T08:00:00.000Z';

/** One valid payload per event type; the type makes sure no event is left out. */
const EXAMPLES: { [T in EventType]: EventPayloadMap[T] } = {
  'app.registered': { appId: UUID, appName: 'de.example.todos', version: '1.2.3', registeredAt: TIME },
  'app.installed': { appId: UUID, appName: 'de.example.todos', version: '1.2.3-beta.1+build.5', installedAt: TIME },
  'app.uninstalled': { appId: UUID, appName: 'de.example.todos', version: '1.2.3', uninstalledAt: TIME, installedAt: TIME },
  'app.deregistered': { appId: UUID, appName: 'de.example.todos', version: '1.2.3', deregisteredAt: TIME },
  'settings.registered': { appName: 'de.example.todos', version: 1 },
  'settings.updated': { appName: 'de.example.todos', changedKeys: ['theme', 'limit'], updatedBy: UUID, version: 3 },
  'settings.validation_failed': {
    appName: 'de.example.todos',
    violations: [{ path: '/limit', reason: 'must be <= 10' }],
    attemptedBy: UUID,
  },
  'settings.deleted': { appName: 'de.example.todos', reason: 'app deregistered' },
  'permission.invalidate': {
    appName: 'de.example.todos',
    pattern: 'app:de.example.todos:*',
    change: 'granted',
    grant: { subjectType: 'USER', subject: UUID, action: 'read', resource: 'app:de.example.todos' },
    changedBy: 'system',
  },
  'user.created': { userId: UUID, email: 'ada@example.com', displayName: 'Ada', role: 'ADMIN', createdBy: 'system' },
  'user.updated': { userId: UUID, changedFields: ['email', 'role'], updatedBy: UUID },
  'user.deleted': { userId: UUID, deletedBy: UUID },
  'session.created': { sessionId: UUID, userId: UUID, expiresAt: TIME },
  'session.revoked': { sessionId: UUID, userId: UUID, revokedBy: UUID, reason: 'logout' },
  'session.expired': { sessionId: UUID, userId: UUID },
};

/** Values that break most rules in some way: wrong types, empties, near misses. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'x',
  0,
  -1,
  1.5,
  Number.NaN,
  true,
  {},
  [],
  [''],
  [1],
  [{}],
  ['x', 2],
  new Date(TIME),
  '2026-13-45',
  'not-a-uuid',
  UUID.toUpperCase(),
  'USER',
  'granted',
  'email',
];

/** Every payload one edit away from `payload`: each field (nested ones too) set to each odd value, deleted, or joined by a stranger. */
function* mutations(payload: Record<string, unknown>): Generator<Record<string, unknown>> {
  yield { ...payload, unexpected: 'field' };
  for (const key of Object.keys(payload)) {
    const { [key]: _, ...without } = payload;
    yield without;
    for (const value of ODD_VALUES) yield { ...payload, [key]: value };
    const current = payload[key];
    if (Array.isArray(current)) {
      for (const value of ODD_VALUES) yield { ...payload, [key]: [...current, value] };
      const first = current[0];
      if (first !== null && typeof first === 'object') {
        for (const inner of mutations(first as Record<string, unknown>)) yield { ...payload, [key]: [inner, ...current.slice(1)] };
      }
    } else if (current !== null && typeof current === 'object') {
      for (const inner of mutations(current as Record<string, unknown>)) yield { ...payload, [key]: inner };
    }
  }
}

describe('compiled payload checks', () => {
  const definitions = Object.keys(EXAMPLES).map((type) => EVENT_CATALOG.get(type)!);

  it.each(definitions.map((d) => [d.type, d] as const))('%s compiles, and accepts its valid example', (_type, definition) => {
    const check = compilePayloadCheck(definition.payload);
    const example = EXAMPLES[definition.type as EventType];
    expect(check).toBeDefined();
    expect(validatePayload(definition, example)).toEqual([]);
    expect(check!(example)).toBe(true);
  });

  it.each(definitions.map((d) => [d.type, d] as const))('%s: never accepts what class-validator refuses', (_type, definition) => {
    const check = compilePayloadCheck(definition.payload)!;
    let accepted = 0;
    let refused = 0;
    for (const payload of mutations(EXAMPLES[definition.type as EventType] as unknown as Record<string, unknown>)) {
      const problems = validatePayload(definition, payload);
      if (check(payload)) {
        accepted++;
        expect({ payload, problems }).toEqual({ payload, problems: [] });
      } else {
        refused++;
      }
    }
    // Both verdicts occur, so the comparison above is not vacuous.
    expect(refused).toBeGreaterThan(0);
    expect(accepted + refused).toBeGreaterThan(20);
  });

  it('the catalog trusts the check with plain objects only: anything else gets class-validator’s verdict', () => {
    const definition = EVENT_CATALOG.get('app.installed')!;
    const example = EXAMPLES['app.installed'];
    class WithGetters {
      get appId() {
        return example.appId;
      }
    }
    const odd: unknown[] = [new WithGetters(), Object.create(example), Object.assign(Object.create({ appName: 'x' }), { appId: example.appId })];
    for (const payload of odd) {
      expect(EVENT_CATALOG.validatePayload(definition, payload)).toEqual(validatePayload(definition, payload));
    }
  });

  it('the catalog answers with class-validator’s messages when the check refuses', () => {
    const definition = EVENT_CATALOG.get('app.installed')!;
    expect(EVENT_CATALOG.validatePayload(definition, { ...EXAMPLES['app.installed'], appId: 'nope', extra: 1 })).toEqual([
      'extra: property extra should not exist',
      'appId: appId must be a UUID',
    ]);
    expect(EVENT_CATALOG.validatePayload(definition, EXAMPLES['app.installed'])).toEqual([]);
    expect(EVENT_CATALOG.validatePayload(definition, null)).toEqual(['data must be an object']);
  });

  describe('classes it does not model are left to class-validator', () => {
    it('a class without rules', () => {
      class Empty {}
      expect(compilePayloadCheck(Empty)).toBeUndefined();
    });

    it('@Transform on a property', () => {
      class Transformed {
        @Transform(({ value }) => String(value).trim())
        @IsString()
        name!: string;
      }
      expect(compilePayloadCheck(Transformed)).toBeUndefined();
    });

    it('an async validator', () => {
      class Remote {
        @IsString()
        name!: string;
      }
      registerDecorator({
        name: 'isKnownRemotely',
        target: Remote,
        propertyName: 'name',
        async: true,
        validator: { validate: async () => true },
      });
      expect(compilePayloadCheck(Remote)).toBeUndefined();
    });

    it('a class with initialised fields (plainToInstance would check the defaults)', () => {
      class WithDefault {
        @IsOptional()
        @IsString()
        label?: unknown = 5;
      }
      expect(compilePayloadCheck(WithDefault)).toBeUndefined();
    });

    it('@Type on a property that is not nested (a conversion class-validator would see)', () => {
      class Converted {
        @Type(() => Number)
        @IsInt()
        count!: number;
      }
      expect(compilePayloadCheck(Converted)).toBeUndefined();
    });

    it('a class that contains itself', () => {
      class Tree {
        @IsString()
        label!: string;

        @IsOptional()
        @ValidateNested({ each: true })
        @Type(() => Tree)
        children?: Tree[];
      }
      expect(compilePayloadCheck(Tree)).toBeUndefined();
    });
  });

  it('@MaxLength gives class-validator’s verdict, which counts a surrogate pair as one and skips variation selectors', () => {
    class Named {
      @MaxLength(3)
      name!: unknown;
    }
    const check = compilePayloadCheck(Named)!;
    const definition = { payload: Named } as unknown as EventDefinition;
    const names = ['', 'abc', 'abcd', '😀😀😀', '😀😀😀😀', 'a\uFE0Fb\uFE0Fc\uFE0F', 'ab\uFE0Fcd', 3, null, ['abc']];
    const verdicts = names.map((name) => ({ name, accepted: check({ name }) }));
    expect(verdicts).toEqual(names.map((name) => ({ name, accepted: validatePayload(definition, { name }).length === 0 })));
    // Longer than 3 in UTF-16 code units, and still accepted: the check did not stop at the length.
    expect(verdicts.filter((verdict) => verdict.accepted).map((verdict) => verdict.name)).toEqual(['', 'abc', '😀😀😀', 'a\uFE0Fb\uFE0Fc\uFE0F']);

    // And class-validator is asked only about the strings longer than the limit in code units.
    const [metadata] = getMetadataStorage().getTargetValidationMetadatas(Named, '', false, false);
    const [constraint] = getMetadataStorage().getTargetValidatorConstraints(metadata.constraintCls);
    const asked = jest.spyOn(constraint.instance as { validate: (value: unknown) => boolean }, 'validate');
    expect([check({ name: 'abc' }), check({ name: '' })]).toEqual([true, true]);
    expect(asked).not.toHaveBeenCalled();
    expect(check({ name: '😀😀😀' })).toBe(true);
    expect(asked).toHaveBeenCalledTimes(1);
  });

  it('@IsDefined and conditions behave as in class-validator', () => {
    class Sample {
      @IsDefined()
      id!: unknown;

      @IsOptional()
      @IsInt()
      count?: number;
    }
    const check = compilePayloadCheck(Sample)!;
    const definition = { payload: Sample } as unknown as EventDefinition;
    for (const payload of [{ id: 1 }, { id: null }, {}, { id: 'a', count: null }, { id: 'a', count: 2 }, { id: 'a', count: 'two' }]) {
      expect({ payload, accepted: check(payload) }).toEqual({ payload, accepted: validatePayload(definition, payload).length === 0 });
    }
  });
});
