import type { Store } from '@/db/client';
import { deleteImage, getImageRow, insertImage } from '@/db/repo/images';
import type { Image } from '@/lib/contracts/images';
import { ConflictError } from './errors';
import type { EventBus } from './events';
import { newId } from './ids';

/**
 * An import's name taken before its work starts: a `building` row (shown at once on the Images
 * page), or a 409 when the name is taken (by a row already there, or by an import that won the
 * race to insert it).
 */
export async function claimImage(store: Store, bus: EventBus, o: { name: string; kind: string; recipe: Record<string, unknown>; now: number }): Promise<Image> {
  if (await getImageRow(store, { name: o.name })) throw new ConflictError(`An image named ${o.name} exists already; delete it first or choose another name.`);
  try {
    const row = await insertImage(store, {
      id: newId('img'),
      name: o.name,
      kind: o.kind,
      state: 'building',
      sizeBytes: 0,
      recipe: o.recipe,
      createdAt: o.now,
      updatedAt: o.now,
      path: '',
    });
    bus.publish('image:update', row);
    return row;
  } catch {
    throw new ConflictError(`An image named ${o.name} is being imported already.`);
  }
}

/** A claimed image whose import failed: its row goes, and the pages are told. */
export async function dropImage(store: Store, bus: EventBus, row: Image): Promise<void> {
  await deleteImage(store, row.id);
  bus.publish('image:removed', { id: row.id });
}
