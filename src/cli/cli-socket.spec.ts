import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DatabaseSection } from '../common/config/config.types';
import { cliSocketPath, parseRequest, unsafeFolder, unsafeSocket } from './cli-socket';
import { COMMANDS } from './commands';
import { COMMAND_NAMES } from './usage';

const db = (over: Partial<DatabaseSection>): DatabaseSection =>
  ({ url: undefined, dataDir: '/var/lib/roomkey', inMemory: false, ...over }) as DatabaseSection;

describe('cliSocketPath', () => {
  it('should place the socket in the data folder when the database is embedded', () => {
    expect(cliSocketPath(db({}))).toBe('/var/lib/roomkey/roomkey.sock');
  });

  it('should offer no socket when the database is PostgreSQL or in memory', () => {
    expect(cliSocketPath(db({ url: 'postgres://db/roomkey' }))).toBeNull();
    expect(cliSocketPath(db({ dataDir: 'memory://', inMemory: true }))).toBeNull();
  });

  it('should offer no socket when the socket path passes 103 bytes', () => {
    expect(cliSocketPath(db({ dataDir: `/${'d'.repeat(89)}` }))).toBe(
      `/${'d'.repeat(89)}/roomkey.sock`,
    );
    expect(cliSocketPath(db({ dataDir: `/${'d'.repeat(90)}` }))).toBeNull();
  });
});

describe('parseRequest', () => {
  it('should accept argv and an absolute cwd', () => {
    expect(parseRequest({ argv: ['keys:rotate'], cwd: '/srv' })).toEqual({
      argv: ['keys:rotate'],
      cwd: '/srv',
    });
  });

  it.each([
    [null, 'must be a JSON object'],
    [['keys:rotate'], 'must be a JSON object'],
    ['keys:rotate', 'must be a JSON object'],
    [{ cwd: '/' }, '"argv" must be a non-empty array of strings'],
    [{ argv: [], cwd: '/' }, '"argv" must be a non-empty array of strings'],
    [{ argv: ['a', 1], cwd: '/' }, '"argv" must be a non-empty array of strings'],
    [{ argv: ['help'] }, '"cwd" must be an absolute path'],
    [{ argv: ['help'], cwd: '.' }, '"cwd" must be an absolute path'],
    [{ argv: ['help'], cwd: '/a\0b' }, '"cwd" must be an absolute path'],
    [{ argv: ['help'], cwd: '/', __proto__x: 1, env: {} }, 'unknown field(s): __proto__x, env'],
  ])('should refuse %j', (value, problem) => {
    expect(parseRequest(value)).toEqual(expect.stringContaining(problem));
  });
});

describe('unsafeFolder and unsafeSocket', () => {
  let dir: string;
  let server: net.Server;
  let sock: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-sock-'));
    sock = path.join(dir, 's.sock');
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should accept a folder of this user that others cannot write', () => {
    fs.chmodSync(dir, 0o700);
    expect(unsafeFolder(dir)).toBeNull();
    fs.chmodSync(dir, 0o755);
    expect(unsafeFolder(dir)).toBeNull();
  });

  it('should refuse a folder that group or others can write', () => {
    fs.chmodSync(dir, 0o770);
    expect(unsafeFolder(dir)).toContain('writable by other users (mode 770)');
    fs.chmodSync(dir, 0o702);
    expect(unsafeFolder(dir)).toContain('writable by other users (mode 702)');
    fs.chmodSync(dir, 0o700);
  });

  it('should refuse a folder or socket of another user', () => {
    const other = process.getuid!() + 1;
    expect(unsafeFolder(dir, other)).toContain('not to this user');
    fs.chmodSync(sock, 0o600);
    expect(unsafeSocket(sock, other)).toContain('not to this user');
  });

  it('should accept only a socket of mode 0600', () => {
    fs.chmodSync(sock, 0o600);
    expect(unsafeSocket(sock)).toBeNull();
    fs.chmodSync(sock, 0o660);
    expect(unsafeSocket(sock)).toContain('mode 660, expected 600');
    fs.chmodSync(sock, 0o604);
    expect(unsafeSocket(sock)).toContain('mode 604, expected 600');
    fs.chmodSync(sock, 0o600);
  });

  it('should refuse a file that is not a socket', () => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, '', { mode: 0o600 });
    expect(unsafeSocket(file)).toContain('is not a socket');
  });
});

describe('COMMAND_NAMES', () => {
  it('should list exactly the commands the CLI implements', () => {
    expect([...COMMAND_NAMES].sort()).toEqual(Object.keys(COMMANDS).sort());
  });
});
