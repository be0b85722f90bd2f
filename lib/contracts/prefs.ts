import { z } from 'zod';
import { idSchema } from './common';

/** One console in the workspace grid. */
export const workspacePaneSchema = z.object({
  machineId: idSchema,
  channel: z.enum(['serial', 'ssh']),
});
export type WorkspacePane = z.infer<typeof workspacePaneSchema>;

/** A user's own UI preferences, kept by the server so they follow the user between browsers. */
export const prefsSchema = z
  .object({
    workspace: z
      .object({
        columns: z.number().int().min(1).max(4),
        panes: z.array(workspacePaneSchema).max(12),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Prefs = z.infer<typeof prefsSchema>;
