import type { ImageCopyService } from './image-copies';

/**
 * Moves to this node, by id, and the image copy each stands on here before the machine's row names this node: the
 * copy budget's eviction leaves it alone until the move ends (settled or dropped). `orphanable` (no transfer has
 * begun yet): a sender that goes away leaves the hold for `orphanMs` at most; once the files come, the incoming
 * move's own end releases it, however long its transfer takes.
 */
export class MoveImageHolds {
  private readonly holds = new Map<string, { release: () => void; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly copies: () => ImageCopyService | null,
    private readonly orphanMs: number,
  ) {}

  hold(moveId: string, image: string | null, orphanable: boolean): void {
    const copies = this.copies();
    if (!image || !copies) return;
    const held = this.holds.get(moveId) ?? { release: copies.hold(image) };
    clearTimeout(held.timer);
    held.timer = orphanable ? setTimeout(() => this.release(moveId), this.orphanMs) : undefined;
    held.timer?.unref();
    this.holds.set(moveId, held);
  }

  /** Let go now, or after `afterMs` (a settled move: its row names this node a moment later). */
  release(moveId: string, afterMs = 0): void {
    const held = this.holds.get(moveId);
    if (!held) return;
    this.holds.delete(moveId);
    clearTimeout(held.timer);
    if (afterMs) setTimeout(held.release, afterMs).unref();
    else held.release();
  }
}
