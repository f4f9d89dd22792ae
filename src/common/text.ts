/** Unicode control characters (C0, DEL, C1): never valid in names, headers or credentials. */
const CONTROL = /\p{Cc}/u;

/** A UUID (any version), as ids and cursors carry them. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}
