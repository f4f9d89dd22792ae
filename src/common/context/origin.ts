/** Where a call came from, for the audit log: `graphql` or `compat.<vendor>`. */
export type Via = string;

/** Where an issuance came from, for its audit event: the channel (`via`) and the route in it. */
export interface JoinOrigin {
  /** `graphql` or `compat.<vendor>`. */
  via: Via;
  /** The operation or compatibility route, e.g. `graphql:createConnection`, `agora.rtc`. */
  route: string;
}
