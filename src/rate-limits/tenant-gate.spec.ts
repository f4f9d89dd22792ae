import { TenantGate } from './tenant-gate';

/** A task that stays running until released. */
function held(): { task: () => Promise<string>; release: () => void; started: () => boolean } {
  let release!: () => void;
  let started = false;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      started = true;
      await done;
      return 'ran';
    },
    release: () => release(),
    started: () => started,
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('TenantGate', () => {
  it('should run at most `concurrency` tasks of one key and queue the next ones in order', async () => {
    const gate = new TenantGate(2, 2);
    const tasks = [held(), held(), held(), held()];
    const results = tasks.map((t) => gate.run('a', t.task, 'refused'));
    await tick();
    expect(tasks.map((t) => t.started())).toEqual([true, true, false, false]);
    expect(gate.running('a')).toBe(2);
    tasks[0].release();
    await tick();
    expect(tasks.map((t) => t.started())).toEqual([true, true, true, false]);
    expect(gate.running('a')).toBe(2);
    for (const t of tasks) t.release();
    expect(await Promise.all(results)).toEqual(['ran', 'ran', 'ran', 'ran']);
    expect(gate.running('a')).toBe(0);
  });

  it('should refuse at once without running the task when the queue of a key is full', async () => {
    const gate = new TenantGate(1, 1);
    const first = held();
    const second = held();
    const p1 = gate.run('a', first.task, 'refused');
    const p2 = gate.run('a', second.task, 'refused');
    let ranThird = false;
    const third = await gate.run(
      'a',
      () => {
        ranThird = true;
        return Promise.resolve('ran');
      },
      'refused',
    );
    expect(third).toBe('refused');
    expect(ranThird).toBe(false);
    first.release();
    second.release();
    expect(await Promise.all([p1, p2])).toEqual(['ran', 'ran']);
  });

  it('should let another key run while one key is full', async () => {
    const gate = new TenantGate(1, 0);
    const a = held();
    const pa = gate.run('a', a.task, 'refused');
    expect(await gate.run('a', () => Promise.resolve('ran'), 'refused')).toBe('refused');
    expect(await gate.run('b', () => Promise.resolve('ran'), 'refused')).toBe('ran');
    a.release();
    expect(await pa).toBe('ran');
  });

  it('should free the slot when a task fails', async () => {
    const gate = new TenantGate(1, 0);
    await expect(gate.run('a', () => Promise.reject(new Error('boom')), 'refused')).rejects.toThrow(
      'boom',
    );
    expect(gate.running('a')).toBe(0);
    expect(await gate.run('a', () => Promise.resolve('ran'), 'refused')).toBe('ran');
  });
});
