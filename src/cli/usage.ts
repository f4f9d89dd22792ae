/**
 * The CLI's command names and usage text, apart from the commands themselves: the CLI answers
 * help, refuses unknown commands and forwards to a running server without loading the app.
 */
export const COMMAND_NAMES: readonly string[] = [
  'tenant:create',
  'user:create',
  'api-key:create',
  'audit:verify',
  'audit:export',
  'audit:prune',
  'signing-key:rotate',
  'keys:rotate',
];

export function isCommandName(name: string): boolean {
  return COMMAND_NAMES.includes(name);
}

export const USAGE = `Usage: npm run roomkey -- <command> [options]

Commands:
  tenant:create  --slug <slug> --name <name> --owner <email>
      Creates a tenant. The owner (created without a password if new) becomes its OWNER.
  user:create    --email <email> [--name <name>] [--password <pw> | --generate-password]
                 [--tenant <slug> --role OWNER|ADMIN|MEMBER] [--platform-admin]
      Creates a user; with --tenant, adds them to that tenant (default role MEMBER).
  api-key:create --tenant <slug> --name <name> [--role OWNER|ADMIN|MEMBER] [--expires <ISO date>]
      Creates an API key (default role ADMIN) and prints its secret once.
  audit:verify   --tenant <slug> | --file <export.ndjson>
      Re-computes a tenant's audit chain in the database, or an NDJSON export offline (exit 1 if broken).
  audit:export   --tenant <slug> [--format ndjson|csv] [--from <ISO>] [--to <ISO>] [--out <file>]
      Streams a tenant's audit log in chain order (to stdout without --out).
  audit:prune    --before <ISO date> [--tenant <slug>]
      Retention: removes verified events older than the date behind a signed checkpoint
      (every tenant without --tenant).
  signing-key:rotate
      New token-signing key; the previous one verifies until its tokens expire.
  keys:rotate
      Re-wraps every stored secret under the newest master key (ROOMKEY_MASTER_KEYS, first entry).

Compiled: node dist/src/cli/main.js <command> [options]. While Roomkey runs on the embedded
database, commands run inside it through <data folder>/roomkey.sock.
`;
