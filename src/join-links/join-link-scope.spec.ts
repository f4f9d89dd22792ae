import { roomMatches } from './join-link-scope';

/** The same rule as a regular expression, for small inputs only (the oracle). */
const oracle = (pattern: string, name: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  ).test(name);

describe('roomMatches', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything at all', true],
    ['lobby', 'lobby', true],
    ['lobby', 'lobby2', false],
    ['team-*', 'team-', true],
    ['team-*', 'team-red', true],
    ['team-*', 'xteam-red', false],
    ['*-live', 'a-live', true],
    ['*-live', 'a-live-2', false],
    ['room.1-*', 'roomx1-a', false],
    ['room.1-*', 'room.1-a', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['**', 'x', true],
    ['?', 'x', false],
    ['?', '?', true],
  ])('should say %s matches %j: %s', (pattern, name, expected) => {
    expect(roomMatches(pattern, name)).toBe(expected);
  });

  it('should agree with the regular-expression reading on every short pattern and name over {a, b, *}', () => {
    const words = (alphabet: string[], max: number): string[] => {
      let out = [''];
      let layer = [''];
      for (let i = 0; i < max; i++) {
        layer = layer.flatMap((w) => alphabet.map((c) => w + c));
        out = out.concat(layer);
      }
      return out;
    };
    const patterns = words(['a', 'b', '*'], 4);
    const names = words(['a', 'b'], 5);
    const disagreements = patterns.flatMap((p) =>
      names.filter((n) => roomMatches(p, n) !== oracle(p, n)).map((n) => `${p} ~ ${n}`),
    );
    expect(disagreements).toEqual([]);
  });

  it('should refuse, without backtracking through every split, a pattern of many stars against a long name', () => {
    expect(roomMatches('*a*a*a*a*a*a*b', 'a'.repeat(200))).toBe(false);
    expect(roomMatches('*a*a*a*a*a*a*b', `${'a'.repeat(199)}b`)).toBe(true);
  });
});
