import { and, eq } from 'drizzle-orm';
import type { Store } from '../client';

export type ImageCopyRow = Store['t']['imageCopies']['$inferSelect'];

/** The copy of an image this node holds, if any. */
export async function getImageCopy(s: Store, imageId: string, nodeId: string): Promise<ImageCopyRow | undefined> {
  const [row] = await s.db
    .select()
    .from(s.t.imageCopies)
    .where(and(eq(s.t.imageCopies.imageId, imageId), eq(s.t.imageCopies.nodeId, nodeId)))
    .limit(1);
  return row;
}

/** Every copy of every image (which nodes hold one). */
export async function allImageCopies(s: Store): Promise<ImageCopyRow[]> {
  return s.db.select().from(s.t.imageCopies);
}

/** A node's copies. */
export async function nodeImageCopies(s: Store, nodeId: string): Promise<ImageCopyRow[]> {
  return s.db.select().from(s.t.imageCopies).where(eq(s.t.imageCopies.nodeId, nodeId));
}

/** The nodes that hold a copy of an image. */
export async function imageCopiesOf(s: Store, imageId: string): Promise<ImageCopyRow[]> {
  return s.db.select().from(s.t.imageCopies).where(eq(s.t.imageCopies.imageId, imageId));
}

export async function insertImageCopy(s: Store, v: ImageCopyRow): Promise<void> {
  await s.db.insert(s.t.imageCopies).values(v);
}

export async function touchImageCopy(s: Store, imageId: string, nodeId: string, at: number): Promise<void> {
  await s.db
    .update(s.t.imageCopies)
    .set({ lastUsedAt: at })
    .where(and(eq(s.t.imageCopies.imageId, imageId), eq(s.t.imageCopies.nodeId, nodeId)));
}

export async function deleteImageCopy(s: Store, imageId: string, nodeId: string): Promise<void> {
  await s.db.delete(s.t.imageCopies).where(and(eq(s.t.imageCopies.imageId, imageId), eq(s.t.imageCopies.nodeId, nodeId)));
}
