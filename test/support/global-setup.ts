/**
 * Prepares the servers the integration tests talk to, once per run. Here they are the local
 * PostgreSQL, Redis and Kafka (started by `npm test`); where a Docker engine exists,
 * TESTCONTAINERS=1 starts throwaway containers instead and points the tests at them.
 */
import { migrate } from '@opd/shared';
import { testServers, type TestServers } from './servers';

export default async function globalSetup(): Promise<void> {
  let servers: TestServers = testServers();
  if (process.env.TESTCONTAINERS === '1') {
    const { startContainers } = await import('./containers');
    servers = await startContainers();
  }
  // Workers inherit the environment of the process that ran global setup.
  process.env.TEST_DATABASE_URL = servers.databaseUrl;
  process.env.TEST_REDIS_URL = servers.redisUrl;
  process.env.TEST_KAFKA_BROKERS = servers.kafkaBrokers.join(',');
  await migrate({ databaseUrl: servers.databaseUrl });
}
