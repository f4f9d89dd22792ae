/** Unicode control characters (C0, DEL, C1): never valid in names, headers or credentials. */
const CONTROL = /\p{Cc}/u;

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}
