import { z } from 'zod';
import { displayInfoSchema } from '@/lib/contracts/display';
import { defineRoute, refParams } from './route';

/** Watching a screen is like watching a console: viewers (role or grant); typing is the operators' (decided on the socket). */
const common = { tag: 'machines', access: 'viewer', machineGrant: 'viewer', params: refParams } as const;

/** A VM's screen: the Display tab's socket (a websocket upgrade on the same path, see http.ts) and screenshots. */
export const displayRoutes = [
  defineRoute({
    ...common,
    method: 'get',
    path: '/machines/{ref}/display',
    name: 'getMachineDisplay',
    summary:
      "A running machine's screen as an RFB (VNC) stream: open with a websocket upgrade (cookie, Authorization: Bearer TOKEN, or ?share=TOKEN). " +
      'Binary frames carry the bytes both ways; read-only callers may ask for the screen but their input is dropped. Without an upgrade: ' +
      'whether you would watch only, or why the screen cannot be shown.',
    response: displayInfoSchema,
    errors: [409],
    handler: async ({ core, principal, machine }) => {
      const { machine: m, readOnly } = await core.display.access(principal, machine.id);
      return { machine: m.name, readOnly, protocol: 'rfb-over-websocket.v1' as const };
    },
  }),
  defineRoute({
    ...common,
    method: 'get',
    path: '/machines/{ref}/screenshot',
    name: 'getMachineScreenshot',
    summary: "A PNG of a running machine's screen as it is now (taken by the machine's display device; at most one a second is taken)",
    response: z.unknown(),
    produces: { type: 'image/png', description: 'The screen, at its own size' },
    errors: [409],
    handler: async ({ core, machine }) => {
      const png = await core.display.screenshot(machine);
      return new Response(new Uint8Array(png), { headers: { 'content-type': 'image/png', 'cache-control': 'no-store', 'content-length': String(png.length) } });
    },
  }),
];
