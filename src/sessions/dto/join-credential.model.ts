import { type Type } from '@nestjs/common';
import { createUnionType } from '@nestjs/graphql';
import { type ProviderKind } from '../../providers/provider-kind';
import { VENDORS } from '../../providers/vendors';

/** One member of the JoinCredential union: a vendor's credential type (in its own folder). */
export type JoinCredentialModel = object;

const MEMBERS: Array<Type<object>> = VENDORS.flatMap((v) => v.joinCredentialTypes);

export const JoinCredential = createUnionType({
  name: 'JoinCredential',
  description: 'The vendor-shaped join credential; its type follows the session provider.',
  types: () => MEMBERS as [Type<object>, ...Array<Type<object>>],
  resolveType: (value: object) => MEMBERS.find((model) => value instanceof model) ?? null,
});

/** Wraps an adapter's credential in the union member for its vendor (unknown fields dropped). */
export function joinCredentialModel(
  kind: ProviderKind,
  credential: Record<string, unknown>,
): JoinCredentialModel {
  const vendor = VENDORS.find((v) => v.kind === kind);
  if (!vendor) throw new Error(`No vendor ${kind}`);
  const Model = vendor.joinCredentialType(credential);
  const model = new Model() as Record<string, unknown>;
  for (const key of Object.keys(credential)) model[key] = credential[key] ?? null;
  return model;
}
