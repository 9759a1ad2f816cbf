/** Every host driver, by kind. A new host is one folder under src/forge/ and one line here. */
import type { ForgeDriver, HostKind } from './types.js';

export const drivers: Readonly<Record<HostKind, ForgeDriver>> = {
  // filled in by the host drivers
} as Record<HostKind, ForgeDriver>;

export function driverFor(kind: HostKind): ForgeDriver {
  return drivers[kind];
}
