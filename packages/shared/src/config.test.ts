import { ConfigError, parseEnv } from './config';

describe('parseEnv', () => {
  it('gives this machine\'s defaults', () => {
    const env = parseEnv({});
    expect(env.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/opd');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.EDGE_PORT).toBe(8080);
    expect([env.EDGE_MAX_IN_FLIGHT_WRITES, env.EDGE_MAX_IN_FLIGHT_READS]).toEqual([256, 1024]);
  });

  it('splits a broker list', () => {
    expect(parseEnv({ KAFKA_BROKERS: 'a:1, b:2' }).KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      parseEnv({ DATABASE_URL: 'mysql://x', EDGE_PORT: 'eighty', KAFKA_PARTITIONS: '0', TIME_ZONE: 'Mars/Olympus', EDGE_MAX_IN_FLIGHT_WRITES: '-1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('EDGE_PORT');
    expect(message).toContain('KAFKA_PARTITIONS');
    expect(message).toContain('TIME_ZONE');
    expect(message).toContain('EDGE_MAX_IN_FLIGHT_WRITES');
  });
});
