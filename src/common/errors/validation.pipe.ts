import { ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
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
 * The global input validation (class-validator DTOs), failing as BAD_USER_INPUT that names the
 * field — like the services' own checks — with Nest's usual messages, which never quote the value.
 */
export class DomainValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions) {
    super(options);
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
