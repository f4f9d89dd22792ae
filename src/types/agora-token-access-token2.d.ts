/**
 * Types for the part of `agora-token`'s AccessToken2 ("007") module that Roomkey uses: its index
 * exports only the ready-made builders, and an RTM token with stream-channel privileges (what the
 * Agora token service mints) has to be put together from the token and its services. Tests parse
 * tokens with the same module. Parsed strings are Buffers, as the module reads them.
 */
declare module 'agora-token/src/AccessToken2' {
  export class Service {
    /** Privilege id → expiry (seconds from the issue time). */
    __privileges: Record<string, number>;
    service_type(): number;
    add_privilege(privilege: number, expire: number): void;
  }

  export class ServiceRtc extends Service {
    static readonly kPrivilegeJoinChannel: number;
    static readonly kPrivilegePublishAudioStream: number;
    static readonly kPrivilegePublishVideoStream: number;
    static readonly kPrivilegePublishDataStream: number;
    /** `uid` 0 is carried as ''; any other number or string as its text. */
    constructor(channelName?: string, uid?: number | string);
    __channel_name: string | Buffer;
    __uid: string | Buffer;
  }

  export class ServiceRtm extends Service {
    static readonly kPrivilegeLogin: number;
    constructor(userId?: string);
    __user_id: string | Buffer;
  }

  export class ServiceChat extends Service {
    static readonly kPrivilegeUser: number;
    static readonly kPrivilegeApp: number;
    constructor(userId?: string);
    __user_id: string | Buffer;
  }

  export const kRtcServiceType: number;
  export const kRtmServiceType: number;
  export const kChatServiceType: number;

  export class AccessToken2 {
    /** `issueTs` null or absent: now. `expire`: seconds from the issue time. */
    constructor(appId?: string, appCertificate?: string, issueTs?: number | null, expire?: number);
    appId: string | Buffer;
    issueTs: number;
    expire: number;
    salt: number;
    services: Service[];
    add_service(service: Service): void;
    /** The token, or '' when the app id or certificate is not 32 hex characters. */
    build(): string;
    from_string(token: string): boolean;
    verifySignature(appCertificate: string): boolean;
  }
}
