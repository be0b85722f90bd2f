import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { Image } from '@/lib/contracts/images';
import type { Store } from '../client';
import { newRowNode, ownRows } from './own';

export type ImageRow = Store['t']['images']['$inferSelect'];
export type ImagePatch = Partial<Pick<ImageRow, 'state' | 'sizeBytes' | 'updatedAt' | 'path'>> & { recipe?: Record<string, unknown> };

function toImage(r: ImageRow): Image {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    state: r.state,
    sizeBytes: r.sizeBytes,
    recipe: JSON.parse(r.recipeJson),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export async function insertImage(s: Store, i: Image & { path: string }): Promise<Image> {
  const [row] = await s.db
    .insert(s.t.images)
    .values({
      id: i.id,
      name: i.name,
      kind: i.kind,
      state: i.state,
      sizeBytes: i.sizeBytes,
      recipeJson: JSON.stringify(i.recipe),
      path: i.path,
      nodeId: newRowNode(s),
      createdAt: i.createdAt,
      updatedAt: i.updatedAt,
    })
    .returning();
  return toImage(row);
}

export async function updateImage(s: Store, id: string, patch: ImagePatch): Promise<Image | undefined> {
  const { recipe, ...rest } = patch;
  // Files written again (a rebuild) are this node's now.
  const values = {
    ...rest,
    ...(recipe === undefined ? {} : { recipeJson: JSON.stringify(recipe) }),
    ...(rest.path === undefined ? {} : { nodeId: newRowNode(s) }),
  };
  const [row] = await s.db.update(s.t.images).set(values).where(eq(s.t.images.id, id)).returning();
  return row ? toImage(row) : undefined;
}

export async function listImages(s: Store): Promise<Image[]> {
  return (await s.db.select().from(s.t.images).orderBy(asc(s.t.images.name))).map(toImage);
}

export async function getImageRow(s: Store, by: { id: string } | { name: string }): Promise<ImageRow | undefined> {
  const cond = 'id' in by ? eq(s.t.images.id, by.id) : eq(s.t.images.name, by.name);
  const [row] = await s.db.select().from(s.t.images).where(cond).limit(1);
  return row;
}

export async function deleteImage(s: Store, id: string): Promise<void> {
  await s.db.delete(s.t.images).where(eq(s.t.images.id, id));
}

export async function countMachinesUsingImage(s: Store, name: string): Promise<number> {
  const [row] = await s.db
    .select({ n: sql<number>`count(*)` })
    .from(s.t.machines)
    .where(eq(s.t.machines.image, name));
  return Number(row?.n ?? 0);
}

/** Snapshots made from machines of this image: their disk chains and layers stand on its files. */
export async function countSnapshotsOfImage(s: Store, name: string): Promise<number> {
  const [row] = await s.db
    .select({ n: sql<number>`count(*)` })
    .from(s.t.snapshots)
    .where(and(eq(s.t.snapshots.image, name), ne(s.t.snapshots.state, 'failed')));
  return Number(row?.n ?? 0);
}

/** Builds that were running when the server stopped cannot finish. */
export async function failBuildingImages(s: Store, now: number): Promise<number> {
  // A cluster: this node's builds only (another node's may be running).
  const rows = await s.db
    .update(s.t.images)
    .set({ state: 'failed', updatedAt: now })
    .where(and(eq(s.t.images.state, 'building'), ownRows(s, s.t.images.nodeId)))
    .returning({ id: s.t.images.id });
  return rows.length;
}
