import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { main } from './main';

export { main };

// Run when executed (node dist/server.js); stay quiet when imported (the CLI's `hangar up`).
const invoked = process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invoked) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`hangar: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
