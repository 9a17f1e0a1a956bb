/**
 * What a test file starts (databases, receivers, apps, anything else), released in reverse
 * order of starting (apps before the receivers and databases they use) after each test or
 * after the file. A cleanup that fails does not keep the others from running.
 */
import { afterAll, afterEach } from '@jest/globals';
import type { Hookline } from '../../src/server/hookline.js';
import { startTestApp, type TestAppOptions } from './app.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startReceiver, type Answer, type Receiver } from './receiver.js';

export interface TestResources {
  newDatabase(): Promise<TestDatabase>;
  newReceiver(fallback?: Answer): Promise<Receiver>;
  newApp(options: TestAppOptions): Promise<Hookline>;
  /** Releases something else the test started, in the same order. */
  onCleanup(cleanup: () => Promise<unknown>): void;
}

/** `each`: released after every test (and after the file); `all`: once, after the file. */
export function trackTestResources(release: 'each' | 'all'): TestResources {
  const cleanups: (() => Promise<unknown>)[] = [];
  const releaseEverything = async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  };
  if (release === 'each') afterEach(releaseEverything);
  afterAll(releaseEverything);
  const track = <T>(resource: T, cleanup: (resource: T) => Promise<unknown>): T => {
    cleanups.push(() => cleanup(resource));
    return resource;
  };
  return {
    newDatabase: async () => track(await createTestDatabase(), (database) => database.drop()),
    newReceiver: async (fallback) => track(await startReceiver(fallback), (receiver) => receiver.close()),
    newApp: async (options) => track(await startTestApp(options), (app) => app.stop()),
    onCleanup: (cleanup) => cleanups.push(cleanup),
  };
}
