import { DomainException } from '../common/errors';

type Kind = 'string' | 'boolean' | 'number' | 'object';
type Out<K extends Kind> = K extends 'string'
  ? string
  : K extends 'boolean'
    ? boolean
    : K extends 'number'
      ? number
      : Record<string, unknown>;

/** A request body as an object: absent or empty is `{}`, anything else that is not an object is refused. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw DomainException.badInput('body', 'The body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** An optional field of one JSON type (null counts as absent); a wrong type names the field. */
export function field<K extends Kind>(
  body: Record<string, unknown>,
  name: string,
  kind: K,
): Out<K> | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  const ok = kind === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === kind;
  if (!ok) throw DomainException.badInput(name, `${name} must be a ${kind}`);
  return v as Out<K>;
}

/** An optional string field restricted to a list of values. */
export function oneOf(
  body: Record<string, unknown>,
  name: string,
  values: readonly string[],
): string | undefined {
  const v = field(body, name, 'string');
  if (v !== undefined && !values.includes(v)) {
    throw DomainException.badInput(name, `${name} must be one of ${values.join(', ')}`);
  }
  return v;
}
