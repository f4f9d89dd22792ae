import { DomainException, ErrorCode } from '../common/errors';
import { ProviderKind } from './provider-kind';
import {
  assertSecretGivenForNewEndpoint,
  credentialFieldContext,
  endpointOf,
  legacyFieldContext,
} from './secret-binding';

describe('secret binding', () => {
  it('should put the endpoint in the context of kinds that send their secret somewhere', () => {
    expect(endpointOf(ProviderKind.OPENVIDU, { url: 'https://ov.test' })).toBe('https://ov.test');
    expect(endpointOf(ProviderKind.LIVEKIT, { url: 'wss://lk.test' })).toBe('wss://lk.test');
    expect(endpointOf(ProviderKind.PEXIP, { apiAddress: 'https://px.test' })).toBe(
      'https://px.test',
    );
    expect(endpointOf(ProviderKind.FISHJAM, { fishjamUrl: 'https://fj.test' })).toBe(
      'https://fj.test',
    );
    expect(credentialFieldContext('t', 'c', 'secret', 'https://ov.test')).not.toBe(
      credentialFieldContext('t', 'c', 'secret', 'https://evil.test'),
    );
  });

  it('should keep the legacy context for kinds whose secrets never leave Roomkey', () => {
    expect(endpointOf(ProviderKind.AGORA, { appId: 'x' })).toBeNull();
    expect(endpointOf(ProviderKind.RED5, {})).toBeNull();
    expect(credentialFieldContext('t', 'c', 'appCertificate', null)).toBe(
      legacyFieldContext('t', 'c', 'appCertificate'),
    );
  });

  it('should read a missing endpoint as empty, never as unbound', () => {
    expect(endpointOf(ProviderKind.OPENVIDU, {})).toBe('');
  });

  it.each([
    [ProviderKind.OPENVIDU, 'url', 'secret'],
    [ProviderKind.LIVEKIT, 'url', 'apiSecret'],
    [ProviderKind.PEXIP, 'apiAddress', 'privateKeyPem'],
    [ProviderKind.FISHJAM, 'fishjamUrl', 'managementToken'],
  ])(
    'should refuse a %s endpoint change without %s and name the secret field',
    (kind, endpoint, secret) => {
      let error: unknown;
      try {
        assertSecretGivenForNewEndpoint(
          kind,
          { [endpoint]: 'https://a.test' },
          { [endpoint]: 'https://b.test' },
          {},
        );
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DomainException);
      expect((error as DomainException).code).toBe(ErrorCode.BAD_USER_INPUT);
      expect((error as DomainException).field).toBe(secret);
      expect(() =>
        assertSecretGivenForNewEndpoint(
          kind,
          { [endpoint]: 'https://a.test' },
          { [endpoint]: 'https://b.test' },
          { [secret]: 'new' },
        ),
      ).not.toThrow();
      expect(() =>
        assertSecretGivenForNewEndpoint(
          kind,
          { [endpoint]: 'https://a.test' },
          { [endpoint]: 'https://a.test' },
          {},
        ),
      ).not.toThrow();
    },
  );
});
