import { type ArgumentMetadata, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { type ValidationError } from 'class-validator';
import { DomainException } from './domain.exception';
import { ErrorCode } from './error-code';

/** The property of the first failing constraint, innermost first (`uid` for `agora.uid`). */
function firstField(errors: ValidationError[]): string | undefined {
  for (const e of errors) {
    const inner = firstField(e.children ?? []);
    if (inner) return inner;
    if (e.constraints && Object.keys(e.constraints).length > 0) return e.property;
  }
  return undefined;
}

/**
 * Control characters no string input may carry: C0 but TAB, LF and CR (PEM keys and free text
 * have line breaks), DEL and C1. NUL above all: PostgreSQL refuses it in text (SQLSTATE 22021).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;
const MAX_DEPTH = 32;
const SKIPPED = new Set<string>(['custom', 'param', 'query']);

/** The innermost property name of the first string (or key) with a forbidden control character. */
export function controlCharField(value: unknown, name: string, depth = 0): string | undefined {
  if (typeof value === 'string') return FORBIDDEN_CONTROL.test(value) ? name : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const hit = controlCharField(item, name, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  }
  if (value instanceof Date || Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (FORBIDDEN_CONTROL.test(key)) return name;
    const hit = controlCharField(item, key, depth + 1);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * The global input validation (class-validator DTOs), failing as BAD_USER_INPUT that names the
 * field — like the services' own checks — with Nest's usual messages, which never quote the value.
 * Before that, every string argument (at any depth, scalars and JSON included) is refused if it
 * carries a control character, so no such value reaches a service or the database.
 */
export class DomainValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions) {
    super(options);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom parameter decorators (@Ctx, @Meta) carry server-made values, not input; paths and
    // query strings are judged earlier, by the input-hygiene middleware, which leaves the vendor
    // callbacks (Red5, webhooks) to answer in their own contract.
    if (!SKIPPED.has(metadata.type)) {
      const field = controlCharField(value, metadata.data ?? 'input');
      if (field) {
        throw new DomainException(
          ErrorCode.BAD_USER_INPUT,
          `${field} contains a control character`,
          { field, reason: 'invalid_input' },
        );
      }
    }
    return super.transform(value, metadata);
  }

  override createExceptionFactory(): (errors?: ValidationError[]) => unknown {
    return (errors: ValidationError[] = []) =>
      new DomainException(
        ErrorCode.BAD_USER_INPUT,
        this.flattenValidationErrors(errors).join('; '),
        {
          field: firstField(errors),
          reason: 'invalid_input',
        },
      );
  }
}
