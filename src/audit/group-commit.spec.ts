import { GroupCommit } from './group-commit';

/** One turn of the event loop (a batch starts one turn after its first job). */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A writer whose batches complete only when the test lets them. */
function gatedWriter() {
  const batches: Array<{ key: string; jobs: number[] }> = [];
  const gates: Array<() => void> = [];
  const write = async (key: string, jobs: number[]): Promise<string[]> => {
    batches.push({ key, jobs: [...jobs] });
    await new Promise<void>((open) => gates.push(open));
    if (jobs.includes(13) && jobs.length > 0) throw new Error(`job 13 fails (${jobs.length})`);
    return jobs.map((j) => `${key}:${j}`);
  };
  const openAll = async (): Promise<void> => {
    for (let i = 0; i < 20 && gates.length === 0; i++) await turn();
    gates.splice(0).forEach((open) => open());
    await new Promise((r) => setImmediate(r));
  };
  return { batches, write, openAll };
}

describe('GroupCommit', () => {
  it('writes the jobs of one turn as one batch, and everything that arrived meanwhile as the next, in order', async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, string>(w.write, 100);
    const firstTurn = [1, 2].map((j) => gc.submit('t', j));
    await turn();
    expect(w.batches).toEqual([{ key: 't', jobs: [1, 2] }]);
    const meanwhile = [3, 4, 5].map((j) => gc.submit('t', j));
    await w.openAll(); // batch [1,2]
    await w.openAll(); // batch [3,4,5]
    expect(await Promise.all(firstTurn)).toEqual(['t:1', 't:2']);
    expect(await Promise.all(meanwhile)).toEqual(['t:3', 't:4', 't:5']);
    expect(w.batches).toEqual([
      { key: 't', jobs: [1, 2] },
      { key: 't', jobs: [3, 4, 5] },
    ]);
    await gc.idle();
  });

  it('keeps one batch in flight per key, but lets different keys proceed together', async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, string>(w.write, 100);
    const a = gc.submit('a', 1);
    const b = gc.submit('b', 2);
    await turn();
    expect(w.batches.map((x) => x.key)).toEqual(['a', 'b']);
    await w.openAll();
    expect(await Promise.all([a, b])).toEqual(['a:1', 'b:2']);
  });

  it('splits the queue at maxBatch', async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, string>(w.write, 2);
    const all = [1, 2, 3, 4, 5].map((j) => gc.submit('t', j));
    for (let i = 0; i < 4; i++) await w.openAll();
    await Promise.all(all);
    expect(w.batches.map((b) => b.jobs)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('when a shared batch fails, retries each job alone so only the bad one fails', async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, string>(w.write, 100);
    const first = gc.submit('t', 1);
    await turn(); // [1] is being written; the next three arrive meanwhile and share a batch
    const shared = [12, 13, 14].map((j) => gc.submit('t', j));
    const settled = Promise.allSettled(shared);
    for (let i = 0; i < 6; i++) await w.openAll();
    await first;
    const [ok12, bad13, ok14] = await settled;
    expect(ok12).toEqual({ status: 'fulfilled', value: 't:12' });
    expect(bad13.status).toBe('rejected');
    expect((bad13 as PromiseRejectedResult).reason).toEqual(new Error('job 13 fails (1)'));
    expect(ok14).toEqual({ status: 'fulfilled', value: 't:14' });
    expect(w.batches.map((b) => b.jobs)).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
  });

  it('a lone failing job rejects with the writer error, and the key keeps working', async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, string>(w.write, 100);
    const bad = gc.submit('t', 13);
    await w.openAll();
    await expect(bad).rejects.toThrow('job 13 fails (1)');
    const next = gc.submit('t', 7);
    await w.openAll();
    expect(await next).toBe('t:7');
  });

  it('never strands a job submitted the moment the previous batch has settled', async () => {
    const gc = new GroupCommit<number, number>((_key, jobs) => Promise.resolve(jobs), 100);
    // The next job is submitted 0..12 microtask hops after the previous one settled (callers
    // await through wrappers of different depths): one of them lands while the drain finishes.
    for (let hops = 0; hops <= 12; hops++) {
      await gc.submit('t', hops);
      for (let h = 0; h < hops; h++) await Promise.resolve();
      const next = gc.submit('t', 100 + hops);
      const stranded = new Promise((r) => setTimeout(() => r('stranded'), 500));
      expect(await Promise.race([next, stranded])).toBe(100 + hops);
    }
    await gc.idle();
  });

  it('idle() waits for every submitted job', async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, string>(w.write, 100);
    const done: string[] = [];
    void gc.submit('t', 1).then((r) => done.push(r));
    void gc.submit('t', 2).then((r) => done.push(r));
    const idle = gc.idle().then(() => done.push('idle'));
    for (let i = 0; i < 3; i++) await w.openAll();
    await idle;
    expect(done).toEqual(['t:1', 't:2', 'idle']);
  });
});
