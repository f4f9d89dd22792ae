import { DomainException } from './domain.exception';
import { controlCharField, DomainValidationPipe } from './validation.pipe';

describe('controlCharField', () => {
  it.each([
    ['a NUL in a top-level string', 'a\u0000b', 'code'],
    ['a NUL in a nested property', { filter: { actorId: 'x\u0000' } }, 'actorId'],
    ['a bell in an array item', { names: ['ok', 'b\u0007'] }, 'names'],
    ['a C1 control in a JSON scalar', { options: { deep: { v: 'x\u0085' } } }, 'v'],
    ['a DEL in a key', { ['k\u007f']: 'v' }, 'code'],
  ])('should name the field when %s', (_label, value, field) => {
    expect(controlCharField(value, 'code')).toBe(field);
  });

  it.each([
    ['a PEM with line breaks', '-----BEGIN KEY-----\nabc\r\n-----END KEY-----\n'],
    ['a tab', 'a\tb'],
    ['a Date', new Date()],
    ['plain nested values', { a: ['x', { b: 'y' }], n: 1, z: null }],
  ])('should pass when the value holds %s', (_label, value) => {
    expect(controlCharField(value, 'input')).toBeUndefined();
  });
});

describe('DomainValidationPipe', () => {
  const pipe = new DomainValidationPipe({ transform: true });

  it('should throw BAD_USER_INPUT naming the argument when a string argument has a NUL', async () => {
    const error: unknown = await pipe
      .transform('abc\u0000', { type: 'custom', data: 'code', metatype: String })
      .then(
        () => null,
        (e: unknown) => e,
      );
    // Custom decorators (@Ctx, @Meta) are server-made: left alone.
    expect(error).toBeNull();
    const thrown: unknown = await pipe
      .transform('abc\u0000', { type: 'body', data: 'code', metatype: String })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(thrown).toBeInstanceOf(DomainException);
    expect(thrown).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
  });

  it('should leave path parameters to the input-hygiene middleware when a param has a NUL', async () => {
    await expect(
      pipe.transform('slug\u0000', { type: 'param', data: 'tenantSlug', metatype: String }),
    ).resolves.toBe('slug\u0000');
  });
});
