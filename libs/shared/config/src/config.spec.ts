import { ConfigError } from './env';
import { loadConfig } from './config';

/** The ConfigError loadConfig throws for `env`. */
function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('MQTT edge limits (SIGNET_MQTT_*)', () => {
  it('defaults protect the edge without any variable set', () => {
    expect(loadConfig({}).edge.limits).toEqual({
      maxPacketSize: 1024 * 1024,
      connectTimeoutMs: 10000,
      maxConnectionsPerIp: 1000,
      // Bounded by default: a silent keepalive-0 connection does not stay open indefinitely.
      maxKeepAliveSeconds: 1200,
      minKeepAliveSeconds: 0,
      maxInflight: 64,
      maxQueuedMessages: 1000,
      maxSessionExpirySeconds: 86400,
      maxClientIdLength: 256,
      maxUsernameLength: 256,
      maxPasswordLength: 8192,
      maxTopicLength: 1024,
      maxTopicLevels: 64,
      maxSubscriptionsPerSession: 1000,
      maxTopicAliases: 10,
      maxRetainedPerOrg: 100_000,
      maxWriteBufferBytes: 4 * 1024 * 1024,
      slowConsumerGraceMs: 10000,
      slowConsumerMaxBytes: 16 * 1024 * 1024,
      connectRatePerIp: 100,
      connectBurstPerIp: 1000,
      connectRatePerIdentity: 20,
      connectBurstPerIdentity: 200,
      maxConnectPacketSize: 64 * 1024,
      maxUnauthenticatedBytesPerIp: 1024 * 1024,
      maxUnauthenticatedBytes: 64 * 1024 * 1024,
    });
  });

  it('reads the pre-authentication limits and refuses a per-address cap below one CONNECT', () => {
    expect(loadConfig({ SIGNET_MQTT_MAX_CONNECT_PACKET_SIZE: '4096', SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES_PER_IP: '8192' }).edge.limits).toMatchObject({
      maxConnectPacketSize: 4096,
      maxUnauthenticatedBytesPerIp: 8192,
    });
    expect(failure({ SIGNET_MQTT_MAX_CONNECT_PACKET_SIZE: '65536', SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES_PER_IP: '4096' }).variable).toBe(
      'SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES_PER_IP',
    );
    expect(failure({ SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES: '2048' }).variable).toBe('SIGNET_MQTT_MAX_UNAUTHENTICATED_BYTES');
  });

  it.each([
    ['SIGNET_MQTT_MAX_PACKET_SIZE', '65536', 'maxPacketSize', 65536],
    ['SIGNET_MQTT_CONNECT_TIMEOUT_MS', '2500', 'connectTimeoutMs', 2500],
    ['SIGNET_MQTT_MAX_CONNECTIONS_PER_IP', '50000', 'maxConnectionsPerIp', 50000],
    ['SIGNET_MQTT_MAX_KEEPALIVE_SECONDS', '600', 'maxKeepAliveSeconds', 600],
    ['SIGNET_MQTT_MIN_KEEPALIVE_SECONDS', '30', 'minKeepAliveSeconds', 30],
    ['SIGNET_MQTT_MAX_INFLIGHT', '16', 'maxInflight', 16],
    ['SIGNET_MQTT_MAX_QUEUED_MESSAGES', '0', 'maxQueuedMessages', 0],
    ['SIGNET_MQTT_MAX_SESSION_EXPIRY_SECONDS', '3600', 'maxSessionExpirySeconds', 3600],
    ['SIGNET_MQTT_MAX_CLIENT_ID_LENGTH', '64', 'maxClientIdLength', 64],
    ['SIGNET_MQTT_MAX_USERNAME_LENGTH', '128', 'maxUsernameLength', 128],
    ['SIGNET_MQTT_MAX_PASSWORD_LENGTH', '4096', 'maxPasswordLength', 4096],
    ['SIGNET_MQTT_MAX_TOPIC_LENGTH', '512', 'maxTopicLength', 512],
    ['SIGNET_MQTT_MAX_TOPIC_LEVELS', '16', 'maxTopicLevels', 16],
    ['SIGNET_MQTT_MAX_SUBSCRIPTIONS_PER_SESSION', '100', 'maxSubscriptionsPerSession', 100],
    ['SIGNET_MQTT_MAX_TOPIC_ALIASES', '0', 'maxTopicAliases', 0],
    ['SIGNET_MQTT_MAX_RETAINED_PER_ORG', '500', 'maxRetainedPerOrg', 500],
    ['SIGNET_MQTT_MAX_WRITE_BUFFER_BYTES', '1048576', 'maxWriteBufferBytes', 1048576],
    ['SIGNET_MQTT_SLOW_CONSUMER_GRACE_MS', '0', 'slowConsumerGraceMs', 0],
    ['SIGNET_MQTT_SLOW_CONSUMER_MAX_BYTES', '33554432', 'slowConsumerMaxBytes', 33554432],
    ['SIGNET_MQTT_CONNECT_RATE_PER_IP', '0', 'connectRatePerIp', 0],
    ['SIGNET_MQTT_CONNECT_BURST_PER_IP', '5000', 'connectBurstPerIp', 5000],
    ['SIGNET_MQTT_CONNECT_RATE_PER_IDENTITY', '5', 'connectRatePerIdentity', 5],
    ['SIGNET_MQTT_CONNECT_BURST_PER_IDENTITY', '10', 'connectBurstPerIdentity', 10],
  ])('%s=%s sets %s', (variable, value, field, expected) => {
    expect(loadConfig({ [variable]: value }).edge.limits).toMatchObject({ [field]: expected });
  });

  it.each([
    ['SIGNET_MQTT_MAX_PACKET_SIZE', '100'],
    ['SIGNET_MQTT_MAX_KEEPALIVE_SECONDS', '0'],
    ['SIGNET_MQTT_MAX_KEEPALIVE_SECONDS', '65536'],
    ['SIGNET_MQTT_MAX_INFLIGHT', '0'],
    ['SIGNET_MQTT_MAX_INFLIGHT', '70000'],
    ['SIGNET_MQTT_MAX_CLIENT_ID_LENGTH', '22'],
    ['SIGNET_MQTT_MAX_PASSWORD_LENGTH', '65536'],
    ['SIGNET_MQTT_MAX_TOPIC_LENGTH', '0'],
    ['SIGNET_MQTT_MAX_TOPIC_ALIASES', '-1'],
    ['SIGNET_MQTT_SLOW_CONSUMER_GRACE_MS', 'soon'],
    ['SIGNET_MQTT_CONNECT_RATE_PER_IP', '-5'],
    ['SIGNET_MQTT_CONNECT_BURST_PER_IP', '0'],
    ['SIGNET_MQTT_CONNECT_BURST_PER_IDENTITY', '1.5'],
  ])('%s=%s is refused with an error naming the variable', (variable, value) => {
    const err = failure({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(new RegExp(`^${variable}: expected`));
  });

  it('a minimum keepalive above the maximum names the minimum', () => {
    const err = failure({ SIGNET_MQTT_MAX_KEEPALIVE_SECONDS: '60', SIGNET_MQTT_MIN_KEEPALIVE_SECONDS: '120' });
    expect(err.variable).toBe('SIGNET_MQTT_MIN_KEEPALIVE_SECONDS');
    expect(err.message).toContain('SIGNET_MQTT_MAX_KEEPALIVE_SECONDS');
  });

  it('a hard slow-consumer cap below the write buffer mark names the cap', () => {
    const err = failure({ SIGNET_MQTT_MAX_WRITE_BUFFER_BYTES: '8388608', SIGNET_MQTT_SLOW_CONSUMER_MAX_BYTES: '4194304' });
    expect(err.variable).toBe('SIGNET_MQTT_SLOW_CONSUMER_MAX_BYTES');
  });

  it('the hard slow-consumer cap follows a larger write buffer mark when not set', () => {
    const { limits } = loadConfig({ SIGNET_MQTT_MAX_WRITE_BUFFER_BYTES: String(32 * 1024 * 1024) }).edge;
    expect(limits.slowConsumerMaxBytes).toBe(32 * 1024 * 1024);
  });
});
