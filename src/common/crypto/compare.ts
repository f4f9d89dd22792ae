import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a UTF-8 string. */
export const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time comparison of two strings of any length (both are hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}
