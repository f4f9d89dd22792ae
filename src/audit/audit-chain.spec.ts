import { createHash, createHmac, randomUUID } from 'node:crypto';
import {
  type ChainedEvent,
  type ChainedFields,
  ChainVerifier,
  GENESIS_HASH,
  canonicalChained,
  canonicalJson,
  chainHash,
  checkpointSignature,
  pickChained,
} from './audit-chain';
import { CSV_COLUMNS, csvField, csvHeader, csvLine, ndjsonLine } from './audit-export';
import { MAX_METADATA_KEYS, MAX_METADATA_VALUE, boundMetadata } from './metadata';

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);
const keys: Record<string, Buffer> = { 'key-a': KEY_A, 'key-b': KEY_B };
const keyFor = (kid: string): Buffer | undefined => keys[kid];
const TENANT = '11111111-1111-4111-8111-111111111111';

function fields(seq: number, over: Partial<ChainedFields> = {}): ChainedFields {
  return {
    id: randomUUID(),
    tenantId: TENANT,
    seq: String(seq),
    occurredAt: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString(),
    actorType: 'USER',
    actorId: 'u-1',
    actorLabel: 'alice@example.test',
    authMethod: 'BASIC_PASSWORD',
    action: 'member.added',
    targetType: 'member',
    targetId: `m-${seq}`,
    outcome: 'SUCCESS',
    errorCode: null,
    clientIp: '127.0.0.1',
    userAgent: 'jest',
    requestId: `req-${seq}`,
    metadata: { userId: `u-${seq}`, role: 'MEMBER', newUser: true },
    keyId: 'key-a',
    ...over,
  };
}

/** A correct HMAC chain of `n` events (seq 1..n from the genesis). */
function buildChain(n: number, keyIdOf: (seq: number) => string = () => 'key-a'): ChainedEvent[] {
  const out: ChainedEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const f = fields(seq, { keyId: keyIdOf(seq) });
    const hash = chainHash(keys[f.keyId], prev, f);
    out.push({ ...f, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

function verify(events: ChainedEvent[], start: { seq: bigint; hash: string } | null = null) {
  const v = new ChainVerifier(keyFor, start);
  for (const e of events) if (!v.add(e)) break;
  return v.result();
}

/** Re-links a chain after an edit, with the real key (so only what was edited differs). */
function relink(events: ChainedEvent[], from: number): void {
  for (let i = from; i < events.length; i++) {
    const prev = i === 0 ? GENESIS_HASH : events[i - 1].hash;
    events[i].prevHash = prev;
    events[i].hash = chainHash(keys[events[i].keyId], prev, events[i]);
  }
}

describe('canonicalJson', () => {
  it('should sort object keys at every depth when keys were inserted in any order', () => {
    const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [3, { y: 2, z: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('should keep array order and drop undefined properties when serialising', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('should escape strings and emit no whitespace when values hold quotes and newlines', () => {
    expect(canonicalJson({ 'k"ey': 'a "b"\nc', n: 1.5, t: true })).toBe(
      '{"k\\"ey":"a \\"b\\"\\nc","n":1.5,"t":true}',
    );
  });

  it('should order keys by code unit when they differ in case', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3 })).toBe('{"B":2,"a":3,"b":1}');
  });
});

describe('pickChained', () => {
  it('should drop prevHash, hash and unknown properties when picking the hashed fields', () => {
    const [e] = buildChain(1);
    const picked = pickChained({ ...e, extra: 'x' } as ChainedFields);
    expect(Object.keys(picked).sort()).toEqual(Object.keys(fields(1)).sort());
    expect(picked).not.toHaveProperty('hash');
    expect(picked).not.toHaveProperty('prevHash');
  });
});

describe('canonicalChained', () => {
  it('should write exactly canonicalJson(pickChained(fields)), whatever the fields hold', () => {
    const variants: ChainedFields[] = [
      fields(1),
      fields(2, { actorId: null, targetType: null, targetId: null, clientIp: null }),
      fields(3, { userAgent: 'a "quoted" \\ agent\n😀 é', actorLabel: 'Ünïcode 中 \u2028' }),
      fields(4, { metadata: { z: 1, a: null, M: 'x', nested: { b: [2, 1], a: true } } }),
      fields(5, { metadata: {} }),
      // A field left undefined is left out, as canonicalJson leaves it out.
      fields(6, {
        errorCode: undefined as unknown as null,
        requestId: undefined as unknown as null,
      }),
      { ...fields(7), extra: 'not hashed' } as ChainedFields,
    ];
    for (const f of variants) expect(canonicalChained(f)).toBe(canonicalJson(pickChained(f)));
  });

  it('should hash as HMAC(key, prevHash ‖ canonicalJson(pickChained(fields))), the stored chains’ format', () => {
    const f = fields(9);
    const expected = createHmac('sha256', KEY_A)
      .update(GENESIS_HASH)
      .update(canonicalJson(pickChained(f)))
      .digest('hex');
    expect(chainHash(KEY_A, GENESIS_HASH, f)).toBe(expected);
  });
});

describe('chainHash', () => {
  it('should change when any hashed field, the previous hash or the key changes', () => {
    const f = fields(1);
    const base = chainHash(KEY_A, GENESIS_HASH, f);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash(KEY_A, GENESIS_HASH, { ...f })).toBe(base);
    expect(chainHash(KEY_B, GENESIS_HASH, f)).not.toBe(base);
    expect(chainHash(KEY_A, 'f'.repeat(64), f)).not.toBe(base);
    for (const k of Object.keys(f) as Array<keyof ChainedFields>) {
      const changed = { ...f, [k]: k === 'metadata' ? { other: 1 } : `${String(f[k])}-x` };
      expect(chainHash(KEY_A, GENESIS_HASH, changed)).not.toBe(base);
    }
  });
});

describe('ChainVerifier', () => {
  it('should accept a correct chain and count every event when nothing was changed', () => {
    expect(verify(buildChain(6))).toEqual({
      ok: true,
      checkedCount: 6,
      firstInvalidEventId: null,
      reason: null,
    });
  });

  it('should accept a chain when events were signed with different known keys', () => {
    const chain = buildChain(4, (seq) => (seq % 2 ? 'key-a' : 'key-b'));
    expect(verify(chain)).toMatchObject({ ok: true, checkedCount: 4 });
  });

  it('should report a sequence gap at the next event when a middle event is missing', () => {
    const chain = buildChain(6);
    const withGap = [...chain.slice(0, 2), ...chain.slice(3)];
    expect(verify(withGap)).toEqual({
      ok: false,
      checkedCount: 2,
      firstInvalidEventId: chain[3].id,
      reason: 'sequence_gap',
    });
  });

  it('should report out-of-order when an earlier sequence number comes again', () => {
    const chain = buildChain(4);
    const replayed = [chain[0], chain[1], chain[2], chain[1]];
    expect(verify(replayed)).toMatchObject({
      ok: false,
      checkedCount: 3,
      firstInvalidEventId: chain[1].id,
      reason: 'sequence_out_of_order',
    });
  });

  it('should report the event now at the lower position when two sequence numbers are swapped', () => {
    const chain = buildChain(5);
    const third = { ...chain[2], seq: '4' };
    const fourth = { ...chain[3], seq: '3' };
    const swapped = [chain[0], chain[1], fourth, third, chain[4]];
    expect(verify(swapped)).toMatchObject({
      ok: false,
      checkedCount: 2,
      firstInvalidEventId: chain[3].id,
      reason: 'previous_hash_mismatch',
    });
  });

  it('should report a hash mismatch at the edited event when one field was changed', () => {
    const chain = buildChain(5);
    chain[2] = { ...chain[2], metadata: { ...chain[2].metadata, role: 'OWNER' } };
    expect(verify(chain)).toEqual({
      ok: false,
      checkedCount: 2,
      firstInvalidEventId: chain[2].id,
      reason: 'hash_mismatch',
    });
  });

  it('should report a hash mismatch when only the occurredAt instant was changed', () => {
    const chain = buildChain(3);
    chain[1] = { ...chain[1], occurredAt: new Date(Date.UTC(2029, 0, 1)).toISOString() };
    expect(verify(chain)).toMatchObject({ ok: false, firstInvalidEventId: chain[1].id });
  });

  it('should report a previous-hash mismatch when an event links to the wrong predecessor', () => {
    const chain = buildChain(5);
    chain[2].prevHash = 'a'.repeat(64);
    chain[2].hash = chainHash(KEY_A, chain[2].prevHash, chain[2]);
    relink(chain, 3); // the tail is consistent with the forged link: the only break is at event 3
    expect(verify(chain)).toMatchObject({
      ok: false,
      checkedCount: 2,
      firstInvalidEventId: chain[2].id,
      reason: 'previous_hash_mismatch',
    });
  });

  it('should report an unknown key when an event names a key id that is not configured', () => {
    const chain = buildChain(3);
    chain[1] = { ...chain[1], keyId: 'key-zzz' };
    expect(verify(chain)).toMatchObject({
      ok: false,
      checkedCount: 1,
      firstInvalidEventId: chain[1].id,
      reason: 'unknown_key',
    });
  });

  it('should fail at the first event when the chain was recomputed with plain SHA-256', () => {
    const chain = buildChain(5);
    let prev = GENESIS_HASH;
    for (const e of chain) {
      e.prevHash = prev;
      e.hash = createHash('sha256')
        .update(prev)
        .update(canonicalJson(pickChained(e)))
        .digest('hex');
      prev = e.hash;
    }
    expect(verify(chain)).toEqual({
      ok: false,
      checkedCount: 0,
      firstInvalidEventId: chain[0].id,
      reason: 'hash_mismatch',
    });
  });

  it('should fail when the first event does not start at the genesis', () => {
    const chain = buildChain(3);
    expect(verify(chain.slice(1))).toMatchObject({
      ok: false,
      firstInvalidEventId: chain[1].id,
      reason: 'sequence_gap',
    });
  });

  it('should verify the rest of a chain when it starts from a checkpoint', () => {
    const chain = buildChain(6);
    const start = { seq: 3n, hash: chain[2].hash };
    expect(verify(chain.slice(3), start)).toMatchObject({ ok: true, checkedCount: 3 });
    expect(verify(chain.slice(3), { seq: 3n, hash: 'b'.repeat(64) })).toMatchObject({
      ok: false,
      firstInvalidEventId: chain[3].id,
      reason: 'previous_hash_mismatch',
    });
  });

  it('should anchor on the first event when verifying a partial export', () => {
    const chain = buildChain(8);
    const v = new ChainVerifier(keyFor, null, true);
    for (const e of chain.slice(4)) expect(v.add(e)).toBe(true);
    expect(v.result()).toMatchObject({ ok: true, checkedCount: 4 });

    const edited = chain.slice(4).map((e) => ({ ...e }));
    edited[0] = { ...edited[0], actorLabel: 'mallory@example.test' };
    const w = new ChainVerifier(keyFor, null, true);
    for (const e of edited) if (!w.add(e)) break;
    expect(w.result()).toMatchObject({
      ok: false,
      firstInvalidEventId: edited[0].id,
      reason: 'hash_mismatch',
    });
  });

  it('should ignore further events and keep the first failure when the chain is already broken', () => {
    const chain = buildChain(4);
    chain[1] = { ...chain[1], outcome: 'FAILURE' };
    const v = new ChainVerifier(keyFor, null);
    expect(v.add(chain[0])).toBe(true);
    expect(v.add(chain[1])).toBe(false);
    expect(v.add(chain[2])).toBe(false);
    expect(v.result()).toMatchObject({ checkedCount: 1, firstInvalidEventId: chain[1].id });
  });

  it('should refuse a hash of another length when it is otherwise a prefix of the right one', () => {
    const chain = buildChain(2);
    chain[1] = { ...chain[1], hash: chain[1].hash.slice(0, 63) };
    expect(verify(chain)).toMatchObject({ ok: false, reason: 'hash_mismatch' });
  });
});

describe('checkpointSignature', () => {
  it('should change when any checkpoint field or the key changes', () => {
    const cp = {
      tenantId: TENANT,
      lastSeq: '10',
      lastHash: 'c'.repeat(64),
      prunedBefore: '2030-01-01T00:00:00.000Z',
    };
    const sig = checkpointSignature(KEY_A, cp);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(checkpointSignature(KEY_A, { ...cp })).toBe(sig);
    expect(checkpointSignature(KEY_B, cp)).not.toBe(sig);
    expect(checkpointSignature(KEY_A, { ...cp, lastSeq: '11' })).not.toBe(sig);
    expect(checkpointSignature(KEY_A, { ...cp, lastHash: 'd'.repeat(64) })).not.toBe(sig);
    expect(checkpointSignature(KEY_A, { ...cp, tenantId: randomUUID() })).not.toBe(sig);
    expect(
      checkpointSignature(KEY_A, { ...cp, prunedBefore: '2030-01-01T00:00:00.001Z' }),
    ).not.toBe(sig);
  });
});

/** RFC 4180 reader for one line of fields (enough for the csvField cases here). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

describe('csvField', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    ['plain', 'plain'],
    [42, '42'],
    [true, 'true'],
  ])('should write %p as %p when it needs no quoting', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it.each([
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line1\nline2', '"line1\nline2"'],
    ['line1\r\nline2', '"line1\r\nline2"'],
    ['a,b "c"\r\nd', '"a,b ""c""\r\nd"'],
  ])('should quote %p as %p when it holds a comma, a quote or a line break', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('should JSON-encode and quote objects when the value is metadata', () => {
    expect(csvField({ b: 1, a: 'x' })).toBe('"{""b"":1,""a"":""x""}"');
  });

  it.each([
    ['=1+1', "'=1+1"],
    ['+cmd', "'+cmd"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
  ])(
    'should prefix %p with a quote when it could run as a spreadsheet formula',
    (value, expected) => {
      expect(csvField(value)).toBe(expected);
    },
  );

  it('should prefix and then quote when a formula also holds a comma', () => {
    expect(csvField('=HYPERLINK("x","y")')).toBe(`"'=HYPERLINK(""x"",""y"")"`);
  });

  it('should round-trip through an RFC 4180 parser when a line holds every special character', () => {
    const [e] = buildChain(1);
    const tricky = { ...e, actorLabel: 'a,b "c"\r\nd\ne', userAgent: 'x, "y"' };
    const text = csvHeader() + csvLine(tricky);
    const rows = parseCsv(text);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(CSV_COLUMNS);
    expect(rows[0]).toHaveLength(20);
    expect(rows[1]).toHaveLength(20);
    const rec = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, rows[1][i]]));
    expect(rec.actorLabel).toBe(tricky.actorLabel);
    expect(rec.userAgent).toBe(tricky.userAgent);
    expect(JSON.parse(rec.metadata)).toEqual(e.metadata);
    expect(rec.errorCode).toBe('');
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('should write one JSON object per line when exporting NDJSON', () => {
    const [e] = buildChain(1);
    const line = ndjsonLine({ ...e, actorLabel: 'x\ny' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ ...e, actorLabel: 'x\ny' });
  });
});

describe('boundMetadata', () => {
  it('should keep at most 50 keys when given more', () => {
    const input = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i]));
    const out = boundMetadata(input);
    expect(MAX_METADATA_KEYS).toBe(50);
    expect(Object.keys(out)).toHaveLength(50);
    expect(out).toEqual(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])));
  });

  it('should not count dropped keys against the limit when invalid keys come first', () => {
    const bad = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`bad key ${i}`, 'x']));
    const good = Object.fromEntries(Array.from({ length: 55 }, (_, i) => [`g${i}`, 'y']));
    expect(Object.keys(boundMetadata({ ...bad, ...good }))).toHaveLength(50);
  });

  it('should cut strings to 500 characters when a value is longer', () => {
    expect(MAX_METADATA_VALUE).toBe(500);
    const out = boundMetadata({ long: 'x'.repeat(2000), short: 'ok' });
    expect(out.long).toBe('x'.repeat(500));
    expect(out.short).toBe('ok');
  });

  it('should drop keys outside [A-Za-z0-9_.-]{1,40} when they are malformed', () => {
    const out = boundMetadata({
      good_key: 1,
      'dotted.key-1': 2,
      '': 3,
      'has space': 4,
      ['x'.repeat(41)]: 5,
      ['y'.repeat(40)]: 6,
      'semi;colon': 7,
      ünïcode: 8,
    });
    expect(out).toEqual({ good_key: 1, 'dotted.key-1': 2, ['y'.repeat(40)]: 6 });
  });

  it('should keep scalars and drop objects, arrays, functions and non-finite numbers when values are mixed', () => {
    const out = boundMetadata({
      s: 'x',
      n: 1.5,
      z: 0,
      b: false,
      nul: null,
      undef: undefined,
      obj: { nested: 'secret' },
      arr: ['a'],
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      fn: () => 1,
      big: 10n,
    });
    expect(out).toEqual({ s: 'x', n: 1.5, z: 0, b: false, nul: null });
  });

  it('should not change the prototype when a key is named __proto__', () => {
    const out = boundMetadata(JSON.parse('{"__proto__":"polluted","ok":1}') as object);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out).toEqual({ ok: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
