import { ASTVisitor, FragmentDefinitionNode, GraphQLError, Kind, SelectionSetNode, ValidationContext } from 'graphql';

/**
 * Refuses operations nested deeper than `maxDepth` before any resolver runs,
 * so one request cannot make the server walk an arbitrarily deep tree.
 */
export function depthLimit(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    // Each fragment's own depth is computed once: walking into a fragment once per path that reaches it
    // costs 2^n for n fragments that each spread the next one twice, a few hundred bytes of query.
    const fragmentDepths = new Map<string, number>();
    const expanding = new Set<string>();
    /** How many levels of selection sets `selectionSet` opens below itself. */
    const depthBelow = (selectionSet: SelectionSetNode | undefined): number => {
      if (!selectionSet) return 0;
      let deepest = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.selectionSet) deepest = Math.max(deepest, 1 + depthBelow(selection.selectionSet));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthBelow(selection.selectionSet));
        } else {
          deepest = Math.max(deepest, fragmentDepth(selection.name.value));
        }
      }
      return deepest;
    };
    const fragmentDepth = (name: string): number => {
      const known = fragmentDepths.get(name);
      if (known !== undefined) return known;
      const fragment = fragments.get(name);
      // Unknown fragments and cycles are other rules' errors (KnownFragmentNames, NoFragmentCycles).
      if (!fragment || expanding.has(name)) return 0;
      expanding.add(name);
      const depth = depthBelow(fragment.selectionSet);
      expanding.delete(name);
      fragmentDepths.set(name, depth);
      return depth;
    };
    return {
      OperationDefinition(operation) {
        const depth = 1 + depthBelow(operation.selectionSet);
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`Operation ${operation.name?.value ?? '(anonymous)'} is ${depth} levels deep; the limit is ${maxDepth}`, {
              nodes: [operation],
            }),
          );
        }
      },
    };
  };
}
