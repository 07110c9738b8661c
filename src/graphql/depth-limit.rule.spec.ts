import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { depthLimit } from './depth-limit.rule';

const schema = buildSchema(`
  type Node { id: ID!, name: String, child: Node, children: [Node!]! }
  type Query { node: Node, nodes: [Node!]! }
`);

const errorsOf = (query: string, maxDepth: number) => validate(schema, parse(query), [...specifiedRules, depthLimit(maxDepth)]).map((e) => e.message);

describe('depthLimit', () => {
  it('counts the levels of selection sets, through inline fragments and fragment spreads', () => {
    expect(errorsOf('{ node { id } }', 2)).toEqual([]);
    expect(errorsOf('{ node { child { id } } }', 2)).toEqual(['Operation (anonymous) is 3 levels deep; the limit is 2']);
    expect(errorsOf('query Deep { node { ... on Node { child { child { id } } } } }', 3)).toEqual(['Operation Deep is 4 levels deep; the limit is 3']);
    expect(errorsOf('{ node { ...F } } fragment F on Node { child { ...G } } fragment G on Node { child { id } }', 4)).toEqual([]);
    expect(errorsOf('{ node { ...F } } fragment F on Node { child { ...G } } fragment G on Node { child { id } }', 3)).toEqual([
      'Operation (anonymous) is 4 levels deep; the limit is 3',
    ]);
  });

  it('takes the deepest branch, and a fragment reached along several paths at its deepest', () => {
    const query = '{ nodes { id } node { child { ...F } } } fragment F on Node { children { child { id } } }';
    expect(errorsOf(query, 4)).toEqual(['Operation (anonymous) is 5 levels deep; the limit is 4']);
    expect(errorsOf(query, 5)).toEqual([]);
  });

  it('walks each fragment once: 60 fragments that each spread the next twice are checked at once, not in 2^60 steps', () => {
    const fragments = Array.from({ length: 60 }, (_, i) =>
      i === 59 ? `fragment F${i} on Node { id }` : `fragment F${i} on Node { ...F${i + 1} child { ...F${i + 1} } }`,
    );
    const query = `{ node { ...F0 } } ${fragments.join(' ')}`;
    expect(errorsOf(query, 100)).toEqual([]);
    expect(errorsOf(query, 10)).toEqual(['Operation (anonymous) is 61 levels deep; the limit is 10']);
  });
});
