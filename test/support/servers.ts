/** Where the real servers of the integration tests are; the defaults are this machine's. */
export interface TestServers {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
}

export function testServers(): TestServers {
  return {
    databaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/opd_test',
    redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    kafkaBrokers: (process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  };
}
