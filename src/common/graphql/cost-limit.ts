import {
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  GraphQLError,
  type GraphQLNamedType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';

export interface CostLimitOptions {
  /** Highest accepted cost of one operation. */
  maxCost: number;
  /** Own cost of particular fields, keyed `Type.field` (e.g. `Query.verifyAuditLog`). */
  fieldCosts?: Readonly<Record<string, number>>;
  /** The argument whose value is the size of a list (default `first`). */
  listSizeArgument?: string;
  /** Size assumed when the list-size argument is omitted and the schema gives no default. */
  defaultListSize: number;
  /** Largest size a list can have (what the server clamps to); also assumed for a `$variable`. */
  maxListSize: number;
}

/**
 * Cost of a selection, before execution:
 * - a leaf field costs 0 unless weighted in `fieldCosts`;
 * - a field with a selection costs its weight (default 1) plus, per item, 1 plus the cost of its
 *   selection; the number of items is its `first` argument (literal, the variable's default, or
 *   `maxListSize` for a variable), the schema default of `first`, or `defaultListSize`; fields
 *   without `first` count as one item (their length is bounded by a parent's `first`);
 * - fragments add their cost wherever they are spread; all branches of a union count;
 * - introspection (`__schema`, `__type`) and `__typename` are free (introspection has its own switch).
 * Pure: depends only on the schema, the document and the options.
 */
export function operationCost(
  context: Pick<ValidationContext, 'getSchema' | 'getFragment'>,
  operation: OperationDefinitionNode,
  options: CostLimitOptions,
): number {
  const schema = context.getSchema();
  const sizeArg = options.listSizeArgument ?? 'first';
  const weights = options.fieldCosts ?? {};
  const variableDefaults = new Map<string, ValueNode | undefined>();
  for (const v of operation.variableDefinitions ?? []) {
    variableDefaults.set(v.variable.name.value, v.defaultValue);
  }
  const fragmentCosts = new Map<string, number>();
  const inProgress = new Set<string>(); // fragment cycles are refused by NoFragmentCyclesRule

  const clamp = (n: number): number => Math.min(options.maxListSize, Math.max(1, Math.trunc(n)));

  const sizeOf = (value: ValueNode | undefined): number | undefined => {
    if (!value) return undefined;
    if (value.kind === Kind.INT) return clamp(Number(value.value));
    if (value.kind === Kind.VARIABLE) {
      const def = variableDefaults.get(value.name.value);
      return def?.kind === Kind.INT ? clamp(Number(def.value)) : options.maxListSize;
    }
    return undefined; // null or a wrong type: the resolver uses its default
  };

  const fieldCost = (parent: GraphQLNamedType, node: FieldNode): number => {
    const name = node.name.value;
    if (name === '__typename' || name === '__schema' || name === '__type') return 0;
    if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
    const def = parent.getFields()[name];
    if (!def) return 0; // unknown field: FieldsOnCorrectTypeRule reports it
    const type = getNamedType(def.type);
    const weight = weights[`${parent.name}.${name}`];
    if (isLeafType(type) || !node.selectionSet) return weight ?? 0;
    let items = 1;
    const sizeDef = def.args.find((a) => a.name === sizeArg);
    if (sizeDef) {
      const given = node.arguments?.find((a) => a.name.value === sizeArg)?.value;
      const schemaDefault =
        typeof sizeDef.defaultValue === 'number' ? clamp(sizeDef.defaultValue) : undefined;
      items = sizeOf(given) ?? schemaDefault ?? options.defaultListSize;
    }
    return (weight ?? 1) + items * (1 + selectionCost(type, node.selectionSet));
  };

  const fragmentCost = (fragment: FragmentDefinitionNode): number => {
    const name = fragment.name.value;
    const known = fragmentCosts.get(name);
    if (known !== undefined) return known;
    if (inProgress.has(name)) return 0;
    inProgress.add(name);
    const type = schema.getType(fragment.typeCondition.name.value);
    const cost = type ? selectionCost(type, fragment.selectionSet) : 0;
    inProgress.delete(name);
    fragmentCosts.set(name, cost);
    return cost;
  };

  function selectionCost(parent: GraphQLNamedType, set: SelectionSetNode): number {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        total += fieldCost(parent, sel);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        total += type ? selectionCost(type, sel.selectionSet) : 0;
      } else {
        const fragment = context.getFragment(sel.name.value);
        total += fragment ? fragmentCost(fragment) : 0;
      }
    }
    return total;
  }

  const root = schema.getRootType(operation.operation);
  return root ? selectionCost(root, operation.selectionSet) : 0;
}

/**
 * Refuses, during validation (so before any resolver runs), an operation whose `operationCost`
 * exceeds `maxCost`. The message names the limit and the cost, never the query.
 */
export function costLimitRule(options: CostLimitOptions): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const cost = operationCost(context, operation, options);
      if (cost > options.maxCost) {
        context.reportError(
          new GraphQLError(`Query cost limit of ${options.maxCost} exceeded, found ${cost}.`, {
            extensions: { code: 'BAD_USER_INPUT' },
          }),
        );
      }
      return false; // the cost walk above already covered this operation
    },
  });
}
