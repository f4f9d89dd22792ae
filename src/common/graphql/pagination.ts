import { type Type } from '@nestjs/common';
import { ArgsType, Field, Int, ObjectType } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString, MaxLength } from 'class-validator';
import { type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { DomainException } from '../errors';
import { UUID } from '../text';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Paging arguments. `first` is clamped to 1..100 rather than refused. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, {
    nullable: true,
    description: `Page size (default ${DEFAULT_PAGE_SIZE}, clamped to 1..${MAX_PAGE_SIZE}).`,
  })
  @IsOptional()
  @IsInt()
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last item of the previous page.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string | null;
}

export function clampFirst(first: number | null | undefined): number {
  if (first === null || first === undefined || !Number.isFinite(first)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(first)));
}

interface CursorValue {
  t: string; // ISO timestamp of the sort key
  i: string; // id, the tie-breaker
}

export function encodeCursor(sortKey: Date, id: string): string {
  return Buffer.from(
    JSON.stringify({ t: sortKey.toISOString(), i: id } satisfies CursorValue),
  ).toString('base64url');
}

export function decodeCursor(cursor: string): { sortKey: Date; id: string } {
  try {
    if (cursor.length > 200) throw new Error('too long');
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorValue>;
    const t = new Date(String(v.t));
    if (typeof v.i !== 'string' || !UUID.test(v.i) || Number.isNaN(t.getTime()))
      throw new Error('shape');
    return { sortKey: t, id: v.i };
  } catch {
    throw DomainException.badInput('after', 'Invalid cursor');
  }
}

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Newest-first keyset pagination on (`sortColumn`, id). The query builder must already carry the
 * tenant filter; this adds ordering, the cursor condition and the limit.
 */
export async function paginate<E extends ObjectLiteral & { id: string }, N>(
  qb: SelectQueryBuilder<E>,
  args: PageArgs,
  sortProperty: keyof E & string,
  toNode: (e: E) => N,
): Promise<Page<N>> {
  const first = clampFirst(args.first);
  const alias = qb.alias;
  if (args.after) {
    const c = decodeCursor(args.after);
    qb.andWhere(`(${alias}.${sortProperty}, ${alias}.id) < (:cursorKey, :cursorId)`, {
      cursorKey: c.sortKey,
      cursorId: c.id,
    });
  }
  const rows = await qb
    .orderBy(`${alias}.${sortProperty}`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .take(first + 1)
    .getMany();
  const page = rows.slice(0, first);
  const edges = page.map((e) => ({
    cursor: encodeCursor(e[sortProperty] as Date, e.id),
    node: toNode(e),
  }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

@ObjectType('PageInfo', { description: 'Where a page ends and whether more follow.' })
export class PageInfoModel {
  @Field({ description: 'True when another page follows.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to fetch the next page.' })
  endCursor!: string | null;
}

/** Builds a `<Name>Connection` object type with edges, nodes and pageInfo. */
export function Connection<T>(node: Type<T>, name: string): Type<Page<T>> {
  @ObjectType(`${name}Edge`, { description: `One ${name} with its cursor.` })
  class Edge {
    @Field({ description: 'Opaque cursor of this item.' })
    cursor!: string;

    @Field(() => node, { description: 'The item.' })
    node!: T;
  }

  @ObjectType(`${name}Connection`, {
    isAbstract: false,
    description: `A page of ${name} items, newest first.`,
  })
  class ConnectionType {
    @Field(() => [Edge], { description: 'Items with cursors.' })
    edges!: Edge[];

    @Field(() => [node], { description: 'Items without cursors.' })
    nodes!: T[];

    @Field(() => PageInfoModel, { description: 'Paging state.' })
    pageInfo!: PageInfoModel;
  }
  return ConnectionType;
}
