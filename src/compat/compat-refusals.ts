import { type RefusalShaper, type ShapedAnswer } from '../common/errors';
import { AGORA_NO_CACHE } from './agora.controller';
import { BROWSER_ROUTE } from './browser-vendors';
import { type Failure } from './compat-reply';

/**
 * What a vendor's front end can read from an answer it did not expect: each sample's own error
 * shape, for what is refused before a compatibility route's handler runs (authentication, roles,
 * an unknown tenant or path, rate limits, a body too large). The handlers' own failures are
 * shaped by their `@CompatReply` (src/compat/*.controller.ts).
 *   - Agora's token service sends its no-cache headers on every answer.
 *   - Fishjam's room manager answers `{error: "<text>"}`.
 *   - The LiveKit sample answers `{errorMessage}`.
 *   - Pexip's tutorial server answers text: its client calls `response.json()` only on success,
 *     and on a JSON error body it would read `undefined` as the meeting id.
 * OpenVidu's and Red5's paths keep Roomkey's `{error}` (their samples have no refusal of their own).
 */
const SHAPES: Record<string, (f: Failure, plain: ShapedAnswer) => ShapedAnswer> = {
  agora: (_f, plain) => ({ ...plain, headers: { ...plain.headers, ...AGORA_NO_CACHE } }),
  fishjam: (f) => ({ status: f.status, json: { error: f.message } }),
  livekit: (f) => ({ status: f.status, json: { errorMessage: f.message } }),
  pexip: (f) => ({ status: f.status, text: f.message }),
};

export const compatRefusal: RefusalShaper = (path, failure, plain) => {
  const vendor = BROWSER_ROUTE.exec(path)?.[2].toLowerCase();
  const shape = vendor === undefined ? undefined : SHAPES[vendor];
  return shape?.(failure, plain);
};
