/**
 * Writes schema.gql (sorted) from the running application's own schema, or with --check fails
 * when the committed file differs. CI runs the check.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/common/config';

const HEADER =
  '# Generated from the code-first schema by `npm run schema:generate`. Do not edit.\n\n';
const FILE = path.join(__dirname, '..', '..', 'schema.gql');

async function main(): Promise<number> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ROOMKEY_DATA_DIR: 'memory://',
    LOG_LEVEL: 'silent',
    ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: 'schema-generation-only',
  });
  const app = await createApp(config);
  try {
    const { schema } = app.get(GraphQLSchemaHost);
    const text = HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
    if (process.argv.includes('--check')) {
      const current = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '';
      if (current !== text) {
        process.stderr.write(
          'schema.gql is out of date: run `npm run schema:generate` and commit it.\n',
        );
        return 1;
      }
      process.stdout.write('schema.gql matches the code.\n');
      return 0;
    }
    fs.writeFileSync(FILE, text);
    process.stdout.write('Wrote schema.gql\n');
    return 0;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
