/**
 * Migration tooling on the same DataSource options the app uses.
 *   generate <Name>  diff the entities against a fresh embedded database with every migration applied,
 *                    and write the difference to migrations/<timestamp>-<Name>.ts
 *   run              apply pending migrations to the configured database (as the app does on start)
 *   check            fail (exit 1) when entities and migrations disagree: on a fresh embedded
 *                    database, and also on DATABASE_URL when it is set
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DataSource } from 'typeorm';
import { loadConfig } from '../src/common/config';
import { dataSourceOptions } from '../src/database/data-source.options';
import { openDatabase } from '../src/database/database.module';

async function freshEmbedded(): Promise<DataSource> {
  const config = loadConfig({ ...process.env, DATABASE_URL: '', ROOMKEY_DATA_DIR: 'memory://' });
  return openDatabase(config, dataSourceOptions(config.database));
}

async function pendingSql(ds: DataSource): Promise<{ up: string[]; down: string[] }> {
  const log = await ds.driver.createSchemaBuilder().log();
  return {
    up: log.upQueries.map((q) => q.query),
    down: log.downQueries.map((q) => q.query).reverse(),
  };
}

const q = (sql: string): string => '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';

async function generate(name: string | undefined): Promise<number> {
  if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
    process.stderr.write('usage: npm run migration:generate -- <PascalCaseName>\n');
    return 2;
  }
  const ds = await freshEmbedded();
  try {
    const { up, down } = await pendingSql(ds);
    if (up.length === 0) {
      process.stdout.write('No changes: entities and migrations agree.\n');
      return 0;
    }
    const ts = Date.now();
    const file = path.join(__dirname, '..', '..', 'migrations', `${ts}-${name}.ts`);
    const body = `import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class ${name}${ts} implements MigrationInterface {
  name = '${name}${ts}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${up.map((s) => `    await queryRunner.query(${q(s)});`).join('\n')}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${down.map((s) => `    await queryRunner.query(${q(s)});`).join('\n')}
  }
}
`;
    fs.writeFileSync(file, body);
    process.stdout.write(`Wrote ${path.relative(process.cwd(), file)}\n`);
    return 0;
  } finally {
    await ds.destroy();
  }
}

async function check(): Promise<number> {
  const targets: Array<[string, () => Promise<DataSource>]> = [['embedded PGlite', freshEmbedded]];
  if (process.env.DATABASE_URL) {
    const config = loadConfig(process.env);
    targets.push(['DATABASE_URL', () => openDatabase(config)]);
  }
  let failed = false;
  for (const [label, open] of targets) {
    const ds = await open();
    try {
      const { up } = await pendingSql(ds);
      if (up.length > 0) {
        failed = true;
        process.stderr.write(
          `Migration drift on ${label}: entities need\n${up.map((s) => `  ${s};`).join('\n')}\n`,
        );
        process.stderr.write('Run `npm run migration:generate -- <Name>` and commit the result.\n');
      } else {
        process.stdout.write(`Migrations match the entities (${label}).\n`);
      }
    } finally {
      await ds.destroy();
    }
  }
  return failed ? 1 : 0;
}

async function run(): Promise<number> {
  const ds = await openDatabase(loadConfig(process.env)); // applies pending migrations under the lock
  await ds.destroy();
  process.stdout.write('Migrations applied.\n');
  return 0;
}

async function main(): Promise<number> {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'generate') return generate(arg);
  if (cmd === 'check') return check();
  if (cmd === 'run') return run();
  process.stderr.write('usage: migration.js generate <Name> | run | check\n');
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
