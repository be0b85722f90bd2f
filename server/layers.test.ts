import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The layers' arrows are lint rules (eslint.config.js): each is proven here by linting a line
 * that breaks it, as a file of that folder would, and a line beside it that is allowed.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let eslint: ESLint;

async function refused(file: string, line: string): Promise<string[]> {
  const [r] = await eslint.lintText(`${line}\n`, { filePath: path.join(root, file) });
  return r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
}, 60_000);

describe('layer arrows (no-restricted-imports)', () => {
  it('core never imports the transports (api, sockets, their shared helpers), type-only imports included', async () => {
    expect(await refused('server/core/probe-x.ts', "import { errorToResponse } from '@/server/api/route';")).toEqual([
      expect.stringMatching(/below the transports/),
    ]);
    expect(await refused('server/core/probe-x.ts', "import type { SocketData } from '@/server/sockets/auth';")).toHaveLength(1);
    expect(await refused('server/core/steps/probe-x.ts', "import { envelope } from '../../transport/errors';")).toHaveLength(1);
    expect(await refused('server/core/probe-x.ts', "import { Hono } from 'hono';")).toEqual([expect.stringMatching(/transport-free/)]);
  }, 60_000);

  it("core reaches drivers only through the registry it is given: not one driver's files, not the real registry (but createCore)", async () => {
    expect(await refused('server/core/probe-x.ts', "import { randomMac } from '@/server/drivers/qemu/runtime';")).toEqual([
      expect.stringMatching(/through the registry/),
    ]);
    expect(await refused('server/core/probe-x.ts', "import { debianRecipeFor } from '@/server/drivers/images/debian';")).toHaveLength(1);
    expect(await refused('server/core/probe-x.ts', "import { createDriverRegistry } from '@/server/drivers/registry';")).toEqual([
      expect.stringMatching(/Only createCore/),
    ]);
    expect(await refused('server/core/hangar.ts', "import { createDriverRegistry } from '@/server/drivers/registry';")).toEqual([]);
    expect(await refused('server/core/probe-x.ts', "import type { MachineDriver } from '@/server/drivers/types';")).toEqual([]);
    // Core's own images.ts is not the drivers' images folder.
    expect(await refused('server/core/steps/probe-x.ts', "import type { ImageService } from '../images';")).toEqual([]);
    // Core's unit tests run on the fake driver, and on no real one.
    expect(await refused('server/core/probe-x.test.ts', "import { fakeRegistry } from '@/server/drivers/fake/registry';")).toEqual([]);
    expect(await refused('server/core/probe-x.ts', "import { fakeRegistry } from '@/server/drivers/fake/registry';")).toHaveLength(1);
    expect(await refused('server/core/probe-x.test.ts', "import { NspawnDriver } from '@/server/drivers/nspawn/driver';")).toHaveLength(1);
  }, 60_000);

  it('drivers import nothing from core, transports or db, by alias or by a relative climb', async () => {
    expect(await refused('server/drivers/qemu/probe-x.ts', "import type { Principal } from '@/server/core/auth';")).toEqual([
      expect.stringMatching(/bottom layer/),
    ]);
    expect(await refused('server/drivers/qemu/probe-x.ts', "import type { Principal } from '../../core/auth';")).toHaveLength(1);
    expect(await refused('server/drivers/probe-x.ts', "import type { Store } from '@/db/client';")).toHaveLength(1);
    expect(await refused('server/drivers/shared/probe-x.ts', "import { envelope } from '@/server/transport/errors';")).toHaveLength(1);
    expect(await refused('server/drivers/qemu/probe-x.ts', "import type { MachineSpec } from '../types';")).toEqual([]);
  }, 60_000);

  it('drivers do not import each other, and shared driver code reaches into none', async () => {
    expect(await refused('server/drivers/nspawn/probe-x.ts', "import { qemuArgv } from '../qemu/argv';")).toEqual([expect.stringMatching(/each other/)]);
    expect(await refused('server/drivers/podman/probe-x.ts', "import { prepareUpper } from '@/server/drivers/nspawn/argv';")).toHaveLength(1);
    expect(await refused('server/drivers/shared/probe-x.ts', "import { natOf } from '../nspawn/argv';")).toEqual([
      expect.stringMatching(/reach into one driver/),
    ]);
    expect(await refused('server/drivers/nspawn/probe-x.ts', "import { logConsole } from '../shared/log-console';")).toEqual([]);
    expect(await refused('server/drivers/registry.ts', "import { QemuDriver } from './qemu/driver';")).toEqual([]);
  }, 60_000);

  it('lib, components and app import nothing from the server or db, not even types', async () => {
    expect(await refused('components/machines/probe-x.tsx', "import type { Principal } from '@/server/core/auth';")).toEqual([
      expect.stringMatching(/belongs in lib\/contracts/),
    ]);
    expect(await refused('components/probe-x.tsx', "import type { MachineRow } from '@/db/repo/machines';")).toHaveLength(1);
    expect(await refused('app/(dash)/probe-x.tsx', "import { createCore } from '@/server/core/hangar';")).toHaveLength(1);
    expect(await refused('lib/probe-x.ts', "import type { Core } from '@/server/core/hangar';")).toHaveLength(1);
    expect(await refused('lib/contracts/probe-x.ts', "import type { Core } from '../../server/core/hangar';")).toHaveLength(1);
    expect(await refused('components/probe-x.tsx', "import type { Machine } from '@/lib/contracts/machines';")).toEqual([]);
  }, 60_000);

  it('the CLI talks HTTP: no drivers, core or db; sockets share helpers through server/transport, not the API; db knows no service', async () => {
    expect(await refused('cli/commands/probe-x.ts', "import { run } from '@/server/drivers/exec';")).toEqual([expect.stringMatching(/over HTTP/)]);
    expect(await refused('cli/probe-x.ts', "import { resolveInside } from '@/server/core/paths';")).toHaveLength(1);
    expect(await refused('cli/probe-x.ts', "import { openDatabase } from '@/db/client';")).toHaveLength(1);
    expect(await refused('cli/probe-x.ts', "import { createApiClient } from '@/lib/api-client';")).toEqual([]);
    expect(await refused('server/sockets/probe-x.ts', "import { errorToResponse } from '@/server/api/route';")).toEqual([
      expect.stringMatching(/server\/transport/),
    ]);
    expect(await refused('server/sockets/probe-x.ts', "import { errorToResponse } from '@/server/transport/errors';")).toEqual([]);
    expect(await refused('db/repo/probe-x.ts', "import { NotFoundError } from '@/server/core/errors';")).toHaveLength(1);
  }, 60_000);
});
