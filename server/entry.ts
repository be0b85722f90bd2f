import { main } from './main';

main(process.argv.slice(2)).catch((err) => {
  console.error(`hangar: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
