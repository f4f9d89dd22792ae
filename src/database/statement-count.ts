/**
 * Statements this process has sent to its database (PostgreSQL or PGlite), counted where they
 * leave: `RoomkeyPgClient.query` and `PGliteClient.query`. Process-wide, for `/metrics`
 * (`roomkey_db_statements_total`) and the bench's "statements per request".
 */
let sent = 0;

export function countStatement(): void {
  sent++;
}

export function statementsSent(): number {
  return sent;
}
