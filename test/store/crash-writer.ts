/**
 * The crash test's child: accepts crashDelivery(first), crashDelivery(first + 1), … into the
 * store and prints each delivery id only after acceptDelivery returned. Stops by itself after
 * `count` deliveries or `ms` milliseconds, in case nobody kills it.
 *
 *   node --import tsx test/store/crash-writer.ts <store path> <first> <count> <ms>
 */
import { writeSync } from 'node:fs';
import { openSqliteStore } from '../../src/store/index.js';
import { crashDelivery } from './sample.js';

const [path, first, count, ms] = process.argv.slice(2);
if (!path || !first || !count || !ms) {
  process.stderr.write('usage: crash-writer.ts <store path> <first> <count> <ms>\n');
  process.exit(2);
}
const store = openSqliteStore({ path });
const deadline = Date.now() + Number(ms);
for (let n = Number(first); n < Number(first) + Number(count) && Date.now() < deadline; n++) {
  const delivery = crashDelivery(n);
  store.acceptDelivery(delivery);
  // writeSync: the line is in the pipe before the next delivery starts.
  writeSync(1, `${delivery.deliveryId}\n`);
}
store.close();
