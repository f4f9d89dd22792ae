import { type ResolvedCredential } from './video-provider';

/** A vendor event reduced to what Roomkey tracks. */
export interface VendorEvent {
  /** Unique per delivery content: a replay has the same key. */
  key: string;
  name: string;
  /** The vendor room id the event is about, if any. */
  room: string | null;
  change:
    | { kind: 'session_ended' }
    | { kind: 'joined' | 'left'; by: 'externalId' | 'identity'; value: string }
    | { kind: 'none' };
}

/**
 * How one vendor authenticates its webhooks and what an event means. `verify` answers null when
 * the delivery is authentic, else the reason it is refused (audited, never told to the caller).
 */
export interface WebhookVerifier {
  /**
   * Whether the signature covers the body: then the body is read (and size-checked) before
   * `verify`; otherwise `verify` runs on the header alone, before the body is read.
   */
  readonly signsBody: boolean;
  verify(
    cred: ResolvedCredential,
    authorization: string | undefined,
    raw: Buffer,
  ): Promise<string | null>;
  /** The event in a verified, parsed body (`raw` is the body's bytes, for a content key). */
  parse(json: Record<string, unknown>, raw: Buffer): VendorEvent;
}
