import { ProviderKind } from '../providers/provider-kind';

/**
 * The vendors whose compatibility routes browsers call, by their path segment under `/t/<slug>/`
 * (Red5 round-trip auth and vendor webhooks are server to server). The one list behind per-tenant
 * CORS, vendor-shaped refusals, cookie origins and join links.
 */
export const BROWSER_VENDORS: Readonly<Record<string, ProviderKind>> = Object.freeze({
  openvidu: ProviderKind.OPENVIDU,
  livekit: ProviderKind.LIVEKIT,
  pexip: ProviderKind.PEXIP,
  agora: ProviderKind.AGORA,
  fishjam: ProviderKind.FISHJAM,
});

/** `/t/<slug>/<browser vendor>[/…]`, in any letter case as Express routes it: [, slug, vendor]. */
export const BROWSER_ROUTE = new RegExp(
  `^/t/([^/]+)/(${Object.keys(BROWSER_VENDORS).join('|')})(?:/|$)`,
  'i',
);
