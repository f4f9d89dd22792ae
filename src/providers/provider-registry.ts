import { type ProviderKind } from './provider-kind';
import { type VendorDefinition } from './vendor-definition';
import { VENDORS } from './vendors';
import { type VideoProvider } from './video-provider';

/**
 * The adapter for each ProviderKind, and each vendor's input block name. Built by ProvidersModule
 * from the adapters of `VENDORS`, in that order.
 */
export class ProviderRegistry {
  private readonly byKind = new Map<ProviderKind, VideoProvider>();
  private readonly definitions = new Map<ProviderKind, VendorDefinition>();
  private readonly kindByBlock = new Map<string, ProviderKind>();
  private readonly vendors: readonly VendorDefinition[];

  constructor(adapters: readonly VideoProvider[], vendors: readonly VendorDefinition[] = VENDORS) {
    this.vendors = vendors;
    vendors.forEach((vendor, i) => {
      this.byKind.set(vendor.kind, adapters[i]);
      this.definitions.set(vendor.kind, vendor);
      this.kindByBlock.set(vendor.block, vendor.kind);
    });
  }

  get(kind: ProviderKind): VideoProvider {
    const adapter = this.byKind.get(kind);
    if (!adapter) throw new Error(`No adapter for ${kind}`);
    return adapter;
  }

  /** Every vendor, in registry order. */
  all(): readonly VendorDefinition[] {
    return this.vendors;
  }

  /** The name of a vendor's input blocks and paths (`openvidu`, `agora`…). */
  blockOf(kind: ProviderKind): string {
    return this.definition(kind).block;
  }

  /** The vendor whose block (path segment) this is, or null. */
  kindOfBlock(block: string): ProviderKind | null {
    return this.kindByBlock.get(block) ?? null;
  }

  definition(kind: ProviderKind): VendorDefinition {
    const vendor = this.definitions.get(kind);
    if (!vendor) throw new Error(`No vendor ${kind}`);
    return vendor;
  }
}
