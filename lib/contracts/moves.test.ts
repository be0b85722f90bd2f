import { describe, expect, it } from 'vitest';
import { moveFileNameSchema, moveIdSchema } from './moves';

describe('move contracts', () => {
  it('file names are names, never paths', () => {
    for (const ok of ['layer-0', 'top', 'dir-serial.log', 'dir-id_ed25519.pub']) expect(moveFileNameSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['../x', 'a/b', '.hidden', '', 'x'.repeat(101), 'a b']) expect(moveFileNameSchema.safeParse(bad).success).toBe(false);
  });
  it('move ids are the random ones a sender makes', () => {
    expect(moveIdSchema.safeParse('mv_AbCdEfGhIjKlMnOpQrStUvWx').success).toBe(true);
    for (const bad of ['mv_short', 'mch_abcdefghijklmnopqrstu', 'mv_../../etc/passwd0000']) expect(moveIdSchema.safeParse(bad).success).toBe(false);
  });
});
