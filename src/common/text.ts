/** Unicode control characters (C0, DEL, C1): never valid in names, headers or credentials. */
const CONTROL = /\p{Cc}/u;

/** A UUID (any version), as ids and cursors carry them. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}

type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * `s` with each lone UTF-16 surrogate replaced by U+FFFD: what UTF-8 (and so PostgreSQL) keeps of
 * it. Text that is hashed and then stored must be made so first, or the stored copy no longer
 * matches its hash (a JSON body can carry a lone surrogate as a `\ud800` escape).
 */
export function wellFormed(s: string): string {
  return (s as WellFormedString).isWellFormed() ? s : (s as WellFormedString).toWellFormed();
}
