import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backupManifestSchema,
  beyondKeep,
  blobKey,
  idOfManifestKey,
  keysOf,
  layerKey,
  newBackupId,
  planUpload,
  toBackup,
  unreferenced,
  type BackupManifest,
} from './manifest';
import { checkKey, DirStore } from './object-store';
import { downloadFile, uploadFile } from './transfer';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function manifest(id: string, layers: string[], over: Partial<BackupManifest> = {}): BackupManifest {
  return {
    format: 'hangar-backup/1',
    id,
    createdAt: Number(id.slice(3, 16)),
    scheduleId: null,
    machine: { id: 'mch_aaaaaaaaaaaaaaaaaaaa', name: 'web' },
    snapshot: { id: 'snp_aaaaaaaaaaaaaaaaaaaa', label: 'c1', kind: 'live', createdAt: 1, pauseMs: 70 },
    driver: 'qemu',
    image: 'busybox',
    spec: {},
    files: [{ name: 'state', sha256: sha(`state-${id}`), size: 10, stored: 5 }],
    layers: layers.map((l) => ({ sha256: sha(l), size: 100, stored: 40 })),
    ...over,
  };
}

describe('backup manifests', () => {
  it('ids sort by time and parse back from their keys', () => {
    const a = newBackupId(1_000);
    const b = newBackupId(2_000_000_000_000);
    expect(a < b).toBe(true);
    expect(idOfManifestKey(`backups/${b}.json`)).toBe(b);
    expect(idOfManifestKey(`backups/${b}.json.part`)).toBeNull();
    expect(idOfManifestKey('backups/../x.json')).toBeNull();
  });

  it('uploads only layers the target lacks, each key once', () => {
    const first = manifest(newBackupId(1), ['image', 'l1']);
    const second = manifest(newBackupId(2), ['image', 'l1', 'l2']);
    const want = keysOf(second).map((key) => ({ key }));
    const present = new Map(keysOf(first).map((k) => [k, 40]));
    const { upload, skip } = planUpload([...want, { key: layerKey(sha('l2')) }], present);
    expect(upload.map((o) => o.key)).toEqual([blobKey(sha(`state-${second.id}`)), layerKey(sha('l2'))]);
    expect(skip.map((o) => o.key)).toEqual([layerKey(sha('image')), layerKey(sha('l1'))]);
  });

  it('collects only objects no manifest names', () => {
    const kept = manifest(newBackupId(1), ['image', 'l1']);
    const gone = manifest(newBackupId(2), ['image', 'l1', 'l2']);
    const stored = [...keysOf(kept), ...keysOf(gone), `backups/${kept.id}.json`].map((key) => ({ key }));
    expect(unreferenced([kept], stored).sort()).toEqual([blobKey(sha(`state-${gone.id}`)), layerKey(sha('l2'))].sort());
    expect(unreferenced([kept, gone], stored)).toEqual([]);
  });

  it("an extra disk's layers are named by its manifest: kept on the target while it stands, counted in its size", () => {
    const disk = { member: 'disk-0.qcow2', layers: [{ sha256: sha('x1'), size: 300, stored: 30 }] };
    const withDisk = manifest(newBackupId(1), ['image', 'l1'], { disks: [disk] });
    expect(backupManifestSchema.parse(withDisk).disks).toEqual([disk]);
    expect(keysOf(withDisk)).toContain(layerKey(sha('x1')));
    const stored = [...keysOf(withDisk), layerKey(sha('stray'))].map((key) => ({ key }));
    expect(unreferenced([withDisk], stored)).toEqual([layerKey(sha('stray'))]);
    expect(unreferenced([], stored)).toContain(layerKey(sha('x1')));
    expect(toBackup(withDisk, 't')).toMatchObject({ sizeBytes: 10 + 200 + 300, storedBytes: 5 + 80 + 30 });
    expect(backupManifestSchema.safeParse({ ...withDisk, disks: [{ member: '../x', layers: disk.layers }] }).success).toBe(false);
  });

  it("keeps a schedule's newest N on the target, never another's", () => {
    const ms = [1, 2, 3, 4].map((t) => manifest(newBackupId(t), ['x'], { scheduleId: 'sch_a' }));
    ms.push(manifest(newBackupId(0), ['x'], { scheduleId: 'sch_b' }));
    ms.push(manifest(newBackupId(0), ['x'], { scheduleId: 'sch_a', machine: { id: 'mch_other0000000000000', name: 'db' } }));
    const web = 'mch_aaaaaaaaaaaaaaaaaaaa';
    expect(beyondKeep(ms, 'sch_a', web, 2)).toEqual([ms[1].id, ms[0].id]);
    expect(beyondKeep(ms, 'sch_a', web, 0)).toHaveLength(3);
    expect(beyondKeep(ms, 'sch_a', 'mch_other0000000000000', 1)).toEqual([]);
  });

  it('the schema refuses a manifest naming odd files, and sums sizes for the list', () => {
    const m = manifest(newBackupId(5), ['image', 'l1']);
    expect(backupManifestSchema.safeParse(m).success).toBe(true);
    expect(backupManifestSchema.safeParse({ ...m, files: [{ ...m.files[0], name: '../etc/passwd' }] }).success).toBe(false);
    expect(backupManifestSchema.safeParse({ ...m, layers: [] }).success).toBe(false);
    expect(toBackup(m, 'bkt_aaaaaaaaaaaaaaaaaaaa')).toMatchObject({ sizeBytes: 210, storedBytes: 85, layers: 2, machineName: 'web' });
  });
});

describe('directory store and transfers', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bk-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('refuses keys that could leave the directory', () => {
    for (const k of ['../x', 'a/../../x', '/abs', 'a//b', 'A', '']) expect(() => checkKey(k)).toThrow(/bad object key/);
    expect(checkKey('layers/abc')).toBe('layers/abc');
  });

  it('round-trips a file compressed, sparse where it was zeros, and refuses damage', async () => {
    const root = tmp();
    const store = new DirStore(root);
    const src = path.join(tmp(), 'ram');
    const data = Buffer.concat([randomBytes(70_000), Buffer.alloc(4 << 20), randomBytes(1000)]);
    fs.writeFileSync(src, data);
    const hex = createHash('sha256').update(data).digest('hex');
    let read = 0;
    const stored = await uploadFile(store, layerKey(hex), src, hex, (n) => (read += n));
    expect(read).toBe(data.length);
    expect(stored).toBeLessThan(data.length / 4);
    expect(await store.head(layerKey(hex))).toBe(stored);
    expect(await store.list('layers/')).toEqual([{ key: layerKey(hex), size: stored }]);

    const out = path.join(tmp(), 'back');
    await downloadFile(store, layerKey(hex), out, { sha256: hex, size: data.length }, () => undefined);
    expect(fs.readFileSync(out).equals(data)).toBe(true);
    expect(fs.statSync(out).blocks * 512).toBeLessThan(data.length);

    await expect(downloadFile(store, layerKey(hex), out, { sha256: sha('other'), size: data.length }, () => undefined)).rejects.toThrow(/checksum mismatch/);
    const file = path.join(root, 'layers', hex);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    await expect(downloadFile(store, layerKey(hex), out, { sha256: hex, size: data.length }, () => undefined)).rejects.toThrow(/is damaged/);
    await expect(downloadFile(store, layerKey(sha('none')), out, { sha256: hex, size: 1 }, () => undefined)).rejects.toThrow(/not on the target/);
  });

  it('a file that is not the one summed is removed again, and a failed write leaves no object', async () => {
    const store = new DirStore(tmp());
    const src = path.join(tmp(), 'f');
    fs.writeFileSync(src, 'changed');
    await expect(uploadFile(store, 'blobs/x', src, sha('original'), () => undefined)).rejects.toThrow(/changed while/);
    expect(await store.list('')).toEqual([]);
    const broken = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    await expect(store.put('blobs/y', broken)).rejects.toThrow(/disk gone/);
    expect(fs.readdirSync(path.join((store as unknown as { root: string }).root, 'blobs'))).toEqual([]);
  });
});
