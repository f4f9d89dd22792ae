import { wellFormed } from '../common/text';
export const MAX_METADATA_KEYS = 50;
export const MAX_METADATA_VALUE = 500;
const KEY = /^[A-Za-z0-9_.-]{1,40}$/;

/**
 * Bounds metadata: at most 50 keys named `[A-Za-z0-9_.-]{1,40}`, scalar values, strings cut to 500
 * characters (a lone surrogate, even one the cut leaves, becomes U+FFFD: see wellFormed). Anything
 * else is dropped rather than failing the audited operation.
 */
export function boundMetadata(input: object): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  let n = 0;
  for (const [k, v] of Object.entries(input) as Array<[string, unknown]>) {
    if (n >= MAX_METADATA_KEYS) break;
    if (!KEY.test(k) || v === undefined) continue;
    if (v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
      out[k] = v;
    else if (typeof v === 'string') out[k] = wellFormed(v.slice(0, MAX_METADATA_VALUE));
    else continue;
    n++;
  }
  return out;
}
