import { DomainException, ErrorCode } from '../../common/errors';
import { AGORA_CREDENTIAL } from '../agora/agora.credential';
import { FISHJAM_CREDENTIAL } from '../fishjam/fishjam.credential';
import { LIVEKIT_CREDENTIAL } from '../livekit/livekit.credential';
import { OPENVIDU_CREDENTIAL } from '../openvidu/openvidu.credential';
import { PEXIP_CREDENTIAL } from '../pexip/pexip.credential';
import { RED5_CREDENTIAL } from '../red5/red5.credential';
import {
  assertSecretGivenForNewEndpoint,
  credentialFieldContext,
  endpointOf,
  legacyFieldContext,
} from './secret-binding';

describe('secret binding', () => {
  it('should put the endpoint in the context of kinds that send their secret somewhere', () => {
    expect(endpointOf(OPENVIDU_CREDENTIAL, { url: 'https://ov.test' })).toBe('https://ov.test');
    expect(endpointOf(LIVEKIT_CREDENTIAL, { url: 'wss://lk.test' })).toBe('wss://lk.test');
    expect(endpointOf(PEXIP_CREDENTIAL, { apiAddress: 'https://px.test' })).toBe('https://px.test');
    expect(endpointOf(FISHJAM_CREDENTIAL, { fishjamUrl: 'https://fj.test' })).toBe(
      'https://fj.test',
    );
    expect(credentialFieldContext('t', 'c', 'secret', 'https://ov.test')).not.toBe(
      credentialFieldContext('t', 'c', 'secret', 'https://evil.test'),
    );
  });

  it('should keep the legacy context for kinds whose secrets never leave Roomkey', () => {
    expect(endpointOf(AGORA_CREDENTIAL, { appId: 'x' })).toBeNull();
    expect(endpointOf(RED5_CREDENTIAL, {})).toBeNull();
    expect(credentialFieldContext('t', 'c', 'appCertificate', null)).toBe(
      legacyFieldContext('t', 'c', 'appCertificate'),
    );
  });

  it('should read a missing endpoint as empty, never as unbound', () => {
    expect(endpointOf(OPENVIDU_CREDENTIAL, {})).toBe('');
  });

  it.each([
    ['OpenVidu', OPENVIDU_CREDENTIAL, 'url', 'secret'],
    ['LiveKit', LIVEKIT_CREDENTIAL, 'url', 'apiSecret'],
    ['Pexip', PEXIP_CREDENTIAL, 'apiAddress', 'privateKeyPem'],
    ['Fishjam', FISHJAM_CREDENTIAL, 'fishjamUrl', 'managementToken'],
  ])(
    'should refuse a %s endpoint change without its secret and name the secret field',
    (_vendor, kind, endpoint, secret) => {
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
