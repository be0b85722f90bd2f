import { afterEach, describe, expect, it, vi } from 'vitest';
import { MoveService, type MoveDeps } from './moves';

/** The copies' holds as a move to this node takes and lets go of them. */
function world(files: () => Promise<unknown> = async () => ({})) {
  const held = new Map<string, number>();
  const copies = {
    hold(name: string) {
      held.set(name, (held.get(name) ?? 0) + 1);
      return () => held.set(name, held.get(name)! - 1);
    },
  };
  const deps = { images: { copies, files }, machines: { describe: () => ({}) } } as unknown as MoveDeps;
  return { moves: new MoveService(deps), held };
}
const ID = 'mv_0123456789abcdef0123';

afterEach(() => vi.useRealTimers());

describe("a move to this node holds its image's copy", () => {
  it('from the image made ready until the move is dropped', async () => {
    const { moves, held } = world();
    await moves.prepareImage({ moveId: ID, image: 'busybox', driver: 'nspawn' });
    expect(held.get('busybox')).toBe(1);
    // Asked again (a retry): still one hold.
    await moves.prepareImage({ moveId: ID, image: 'busybox', driver: 'nspawn' });
    expect(held.get('busybox')).toBe(1);
    await moves.drop(ID);
    expect(held.get('busybox')).toBe(0);
  });

  it('let go after 15 minutes when no files come (its sender went away)', async () => {
    vi.useFakeTimers();
    const { moves, held } = world();
    await moves.prepareImage({ moveId: ID, image: 'busybox', driver: 'nspawn' });
    vi.advanceTimersByTime(14 * 60_000);
    expect(held.get('busybox')).toBe(1);
    vi.advanceTimersByTime(2 * 60_000);
    expect(held.get('busybox')).toBe(0);
  });

  it('not when the image could not be made ready', async () => {
    const { moves, held } = world(async () => {
      throw new Error('holder offline');
    });
    await expect(moves.prepareImage({ moveId: ID, image: 'busybox', driver: 'nspawn' })).rejects.toThrow('holder offline');
    expect(held.get('busybox')).toBe(0);
  });
});
