import { deepFreeze, frozenJsonCopy } from './event-envelope';

describe('frozenJsonCopy', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }

  const samples: Array<[string, unknown]> = [
    ['a flat object', { a: 'x', b: 1, c: true, d: null }],
    ['undefined and function fields', { kept: 1, dropped: undefined, fn: () => 1 }],
    ['nested arrays and objects', { list: [1, 'two', { three: [3] }], inner: { deeper: { deepest: 'yes' } } }],
    ['undefined, functions and non-finite numbers in arrays', { list: [undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY, 4] }],
    ['non-finite numbers in objects', { nan: Number.NaN, inf: Number.NEGATIVE_INFINITY }],
    ['a Date', { at: new Date('2026-11-22T08:00:00.000Z') }],
    ['a class instance', { point: new Point(1, 2) }],
    ['an object without prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ['an object with its own toJSON', { a: 1, toJSON: () => ({ b: 2 }) }],
    ['an object whose fields are inherited', Object.create({ inherited: 1 }) as object],
    ['an array with holes', { list: ['a', , 'c'] }],
    ['a "__proto__" key', JSON.parse('{"a":1,"__proto__":{"polluted":true}}')],
  ];

  it.each(samples)('copies %s as a JSON round trip would', (_name, value) => {
    expect(frozenJsonCopy(value)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('keeps a "__proto__" key an own property, never the copy\'s prototype', () => {
    const copy = frozenJsonCopy(JSON.parse('{"a":1,"__proto__":{"polluted":true}}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy.polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(['a', '__proto__']);
  });

  it('freezes every level of the copy and leaves the original alone', () => {
    const original = { list: [{ a: 1 }], inner: { b: 2 } };
    const copy = frozenJsonCopy(original);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(Object.isFrozen(copy.list)).toBe(true);
    expect(Object.isFrozen(copy.list[0])).toBe(true);
    expect(Object.isFrozen(copy.inner)).toBe(true);
    expect(Object.isFrozen(original)).toBe(false);
    expect(Object.isFrozen(original.list)).toBe(false);
    original.list.push({ a: 3 });
    expect(copy.list).toHaveLength(1);
  });
});

describe('deepFreeze', () => {
  it('freezes a parsed value in place, all the way down', () => {
    const value = JSON.parse('{"a":{"b":[{"c":1}]}}') as { a: { b: Array<{ c: number }> } };
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value.a.b[0])).toBe(true);
    expect(() => {
      'use strict';
      value.a.b[0].c = 2;
    }).toThrow(TypeError);
  });
});
