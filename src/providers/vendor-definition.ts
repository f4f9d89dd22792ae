import { type Type } from '@nestjs/common';
import { Field } from '@nestjs/graphql';
import { Type as TransformTo } from 'class-transformer';
import { IsOptional, ValidateNested } from 'class-validator';
import { type ProviderKind } from './provider-kind';
import { type VideoProvider } from './video-provider';

/** A GraphQL input block a vendor adds to a shared input, and how it is described. */
export interface VendorBlock {
  type: Type<unknown>;
  description?: string;
}

/**
 * Everything Roomkey knows about one vendor, in the vendor's own folder: its adapter (the
 * VideoProvider port) and the GraphQL types it contributes to the shared inputs and the
 * JoinCredential union. Adding a vendor means one folder, one ProviderKind and one entry in
 * `vendors.ts`.
 */
export interface VendorDefinition {
  kind: ProviderKind;
  /** The adapter's `block`: the field name of this vendor's blocks in shared inputs. */
  block: string;
  adapter: Type<VideoProvider>;
  /** Its block in createProviderCredential / updateProviderCredential. */
  credentialInput: VendorBlock;
  /** Its block of createSession options, if it has any. */
  sessionOptions?: VendorBlock;
  /** Its block of createConnection options, if it has any. */
  joinOptions?: VendorBlock;
  /** Its members of the JoinCredential union. */
  joinCredentialTypes: Array<Type<object>>;
  /** The union member for one issued credential (a vendor may issue several shapes). */
  joinCredentialType(credential: Record<string, unknown>): Type<object>;
}

/**
 * Adds one optional, nested-validated field per vendor to a shared input class: the field is the
 * vendor's block name, typed by `pick` (vendors without such a block are skipped). Decorators
 * are plain functions, so this is what writing each field out by hand would do.
 */
export function addVendorBlocks(
  target: Type<unknown>,
  vendors: readonly VendorDefinition[],
  pick: (v: VendorDefinition) => VendorBlock | undefined,
): void {
  for (const vendor of vendors) {
    const block = pick(vendor);
    if (!block) continue;
    const decorate = [
      Field(() => block.type, { nullable: true, description: block.description }),
      IsOptional(),
      ValidateNested(),
      TransformTo(() => block.type),
    ];
    for (const d of decorate) d(target.prototype as object, vendor.block);
  }
}
