import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres, NO_POSTGRES_MESSAGE, type ThrowawayPostgres } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL server's URL, or '' when it could not start (`pgError` says why). */
    pgUrl: string;
    pgError: string;
  }
}

/**
 * One throwaway PostgreSQL cluster for the run, in a temp dir, found by the tests by URL
 * (`inject('pgUrl')`); each test file makes its own database on it. CF_TEST_PG_URL names an
 * existing server instead. Without PostgreSQL the fleet's tests fail, saying why: never skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: ThrowawayPostgres | null = null;
  const given = process.env.CF_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    project.provide('pgError', '');
  } else {
    try {
      server = await startThrowawayPostgres('cf-test-pg');
      project.provide('pgUrl', server.url);
      project.provide('pgError', '');
    } catch (err) {
      project.provide('pgUrl', '');
      project.provide('pgError', err instanceof Error ? err.message : NO_POSTGRES_MESSAGE);
    }
  }
  return async () => {
    await server?.destroy();
  };
}
