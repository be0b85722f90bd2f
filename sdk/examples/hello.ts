// The SDK's example: build a machine from cached steps, run a command in it, remove it.
//   HANGAR_URL=http://127.0.0.1:3000 HANGAR_TOKEN=hgr_... npx tsx sdk/examples/hello.ts
// HANGAR_EXAMPLE_BASE=busybox makes it fast (the integration test runs it so).
import { createHangar } from '../src/index';

const hangar = createHangar({ baseUrl: process.env.HANGAR_URL ?? 'http://127.0.0.1:3000', token: process.env.HANGAR_TOKEN ?? '' });

if (process.env.HANGAR_EXAMPLE_BASE === 'busybox') {
  const m = await hangar.build('busybox').apply('file', { path: '/etc/motd', content: 'hello from the sdk\n' });
  const r = await m.exec(['cat', '/etc/motd']);
  console.log(`${m.name}: ${r.stdout.trim()}`);
  await m.destroy();
} else {
  const m = await hangar.build('debian-12').apply('apt', { packages: ['nginx'] });
  const r = await m.exec(['nginx', '-v']);
  console.log(`${m.name}: ${r.stderr.trim()}`);
  await m.destroy();
}
