import {
  buildSchema,
  type DocumentNode,
  Kind,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
  ValidationContext,
  TypeInfo,
} from 'graphql';
import { type CostLimitOptions, costLimitRule, operationCost } from './cost-limit';

const schema = buildSchema(`
  type Query {
    item: Item
    items(first: Int): ItemPage!
    tags(first: Int = 50): [Tag!]!
    heavy: Report!
    weightedLeaf: Int!
    name: String!
    either: Either
  }
  type ItemPage { nodes: [Item!]! total: Int! }
  type Item { id: ID! children(first: Int): [Item!]! tag: Tag }
  type Tag { label: String! }
  type Report { ok: Boolean! }
  union Either = Item | Tag
`);

const OPTIONS: CostLimitOptions = {
  maxCost: 1000,
  fieldCosts: { 'Query.heavy': 400, 'Query.weightedLeaf': 7 },
  defaultListSize: 20,
  maxListSize: 100,
};

function costOf(query: string, options: CostLimitOptions = OPTIONS): number {
  const doc: DocumentNode = parse(query);
  const ctx = new ValidationContext(schema, doc, new TypeInfo(schema), () => undefined);
  const op = doc.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (!op) throw new Error('no operation');
  return operationCost(ctx, op, options);
}

function errorsOf(query: string, options: CostLimitOptions = OPTIONS): string[] {
  return validate(schema, parse(query), [...specifiedRules, costLimitRule(options)]).map(
    (e) => e.message,
  );
}

describe('operationCost', () => {
  it('should cost nothing when only scalars of the root are selected', () => {
    expect(costOf('{ name }')).toBe(0);
  });

  it('should cost one per object plus one per item when an object field is selected', () => {
    // item: weight 1 + 1 item × (1 + id 0)
    expect(costOf('{ item { id } }')).toBe(2);
    // item 1 + 1 × (1 + tag(1 + 1 × (1 + 0)))
    expect(costOf('{ item { id tag { label } } }')).toBe(4);
  });

  it('should multiply the subtree when a field has a first argument', () => {
    // items: 1 + 10 × (1 + nodes(1 + 1 × (1 + 0)))
    expect(costOf('{ items(first: 10) { nodes { id } } }')).toBe(1 + 10 * 3);
  });

  it('should multiply nested lists when first arguments are nested', () => {
    const one = costOf('{ items(first: 10) { nodes { children(first: 1) { id } } } }');
    const five = costOf('{ items(first: 10) { nodes { children(first: 5) { id } } } }');
    expect(one).toBe(1 + 10 * (1 + 1 + 1 * (1 + (1 + 1 * 1))));
    expect(five).toBe(1 + 10 * (1 + 1 + 1 * (1 + (1 + 5 * 1))));
  });

  it('should clamp the multiplier when first is above the maximum or below one', () => {
    expect(costOf('{ items(first: 100000) { total } }')).toBe(1 + 100 * 1);
    expect(costOf('{ items(first: -5) { total } }')).toBe(1 + 1 * 1);
  });

  it('should use the default size when first is omitted and the schema has no default', () => {
    expect(costOf('{ items { total } }')).toBe(1 + 20 * 1);
  });

  it('should use the schema default when first is omitted and the argument has one', () => {
    expect(costOf('{ tags { label } }')).toBe(1 + 50 * 1);
  });

  it('should assume the maximum size when first is a variable without a default', () => {
    expect(costOf('query ($n: Int) { items(first: $n) { total } }')).toBe(1 + 100 * 1);
  });

  it("should use the variable's default when first is a variable with one", () => {
    expect(costOf('query ($n: Int = 3) { items(first: $n) { total } }')).toBe(1 + 3 * 1);
  });

  it('should add the configured weight when a weighted field is selected', () => {
    expect(costOf('{ heavy { ok } }')).toBe(400 + 1);
    expect(costOf('{ weightedLeaf }')).toBe(7);
    expect(costOf('{ a: heavy { ok } b: heavy { ok } }')).toBe(2 * 401);
  });

  it('should count a fragment each time when it is spread several times', () => {
    const direct = costOf('{ a: items(first: 2) { total } b: items(first: 2) { total } }');
    const viaFragment = costOf(
      '{ a: items(first: 2) { ...P } b: items(first: 2) { ...P } } fragment P on ItemPage { nodes { id } }',
    );
    expect(direct).toBe(2 * (1 + 2));
    expect(viaFragment).toBe(2 * (1 + 2 * (1 + 2)));
  });

  it('should count every branch when a union is selected with inline fragments', () => {
    expect(costOf('{ either { ... on Item { tag { label } } ... on Tag { label } } }')).toBe(
      1 + 1 * (1 + (1 + 1 * 1)),
    );
  });

  it('should cost nothing when introspection or __typename is selected', () => {
    expect(costOf('{ __typename __schema { types { fields { name } } } }')).toBe(0);
    expect(costOf('{ __type(name: "Item") { fields { type { name } } } }')).toBe(0);
  });

  it('should terminate when fragments spread each other in a cycle', () => {
    const cost = costOf(
      '{ item { ...A } } fragment A on Item { tag { label } children(first: 2) { ...B } } fragment B on Item { ...A }',
    );
    expect(Number.isFinite(cost)).toBe(true);
    expect(cost).toBeGreaterThan(0);
  });

  it('should compute quickly when fragments double at every level', () => {
    // Each level spreads the previous one twice: expanding the tree would take 2^40 steps.
    const levels = 40;
    const frags = [`fragment F0 on Item { tag { label } }`];
    for (let i = 1; i <= levels; i++) {
      frags.push(`fragment F${i} on Item { ...F${i - 1} tag { ...T } ...F${i - 1} }`);
    }
    const query = `{ item { ...F${levels} } } fragment T on Tag { label } ${frags.join(' ')}`;
    expect(costOf(query)).toBeGreaterThan(2 ** levels);
  });
});

describe('costLimitRule', () => {
  it('should report the limit and the cost when an operation costs more than the maximum', () => {
    // 3 × 401 = 1203 > 1000
    expect(errorsOf('{ a: heavy { ok } b: heavy { ok } c: heavy { ok } }')).toEqual([
      'Query cost limit of 1000 exceeded, found 1203.',
    ]);
  });

  it('should accept the operation when its cost equals the maximum', () => {
    expect(costOf('{ items(first: 100) { nodes { id } } }')).toBe(301);
    expect(
      errorsOf('{ items(first: 100) { nodes { id } } }', { ...OPTIONS, maxCost: 301 }),
    ).toEqual([]);
    expect(
      errorsOf('{ items(first: 100) { nodes { id } } }', { ...OPTIONS, maxCost: 300 }),
    ).toHaveLength(1);
  });

  it('should check each operation when a document holds several', () => {
    const doc =
      'query Cheap { name } query Dear { a: heavy { ok } b: heavy { ok } c: heavy { ok } }';
    expect(errorsOf(doc)).toEqual(['Query cost limit of 1000 exceeded, found 1203.']);
  });

  it('should never echo the query when it refuses one', () => {
    const [message] = errorsOf('{ secretAlias: heavy { ok } b: heavy { ok } c: heavy { ok } }');
    expect(message).not.toContain('secretAlias');
    expect(message).not.toContain('heavy');
  });
});
