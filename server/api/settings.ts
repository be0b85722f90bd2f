import { settingsPatchSchema, settingsSchema } from '@/lib/contracts/settings';
import { defineRoute } from './route';

export const settingsRoutes = [
  defineRoute({
    method: 'get',
    path: '/settings',
    name: 'getSettings',
    tag: 'system',
    summary: 'Server settings',
    access: 'viewer',
    response: settingsSchema,
    handler: async ({ core }) => core.settings.get(),
  }),
  defineRoute({
    method: 'patch',
    path: '/settings',
    name: 'updateSettings',
    tag: 'system',
    summary: 'Change server settings',
    access: 'admin',
    body: settingsPatchSchema,
    response: settingsSchema,
    handler: async ({ core, principal, body, ip }) => {
      const next = await core.settings.update(body);
      await core.audit.record(principal, { action: 'settings.update', ip, detail: body });
      return next;
    },
  }),
];
