import { z } from 'zod';

/** What the display socket of a machine gives its caller (GET /machines/{ref}/display without an upgrade). */
export const displayInfoSchema = z.object({
  machine: z.string(),
  /** The caller watches only: the server drops its keys, pointer and clipboard. */
  readOnly: z.boolean(),
  /** RFB (VNC) bytes in binary websocket frames both ways, security type None (Hangar authenticated the caller). */
  protocol: z.literal('rfb-over-websocket.v1'),
});
export type DisplayInfo = z.infer<typeof displayInfoSchema>;

/** How often an open machine page refreshes its screenshot. */
export const SCREENSHOT_REFRESH_MS = 5000;
