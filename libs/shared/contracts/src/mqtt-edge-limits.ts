/*
 * The MQTT edge's limits, described once: the edge (@signet/mqtt-edge) enforces them and re-exports this
 * type as its EdgeLimits; config (@signet/config) reads the operator-set ones from SIGNET_MQTT_* (EdgeMqttLimits).
 * Kept here because config, a util library, may not import the edge. The defaults are here too
 * (DEFAULT_EDGE_LIMITS), read by both; clamping is the edge's resolveLimits.
 */

/** Bounds the edge enforces per connection, session and org. All are per edge process. */
export interface EdgeLimits {
  /** Largest MQTT packet accepted, fixed header included (5.0: advertised as Maximum Packet Size). */
  maxPacketSize: number;
  /** A socket that has not completed CONNECT (authentication included) within this time is closed. */
  connectTimeoutMs: number;
  /**
   * Largest keepalive a client may ask for (default 1200 s, as AWS IoT Core). 5.0 clients asking more
   * (or 0) are told Server Keep Alive = this; 3.1.1 clients asking more are refused (CONNACK 2), as
   * Mosquitto does, and 3.1.1 clients asking 0 are closed after 1.5 × this of silence. 65535: no cap
   * (a silent keepalive-0 connection then stays open until the credential expires).
   */
  maxKeepAliveSeconds: number;
  /**
   * Smallest keepalive a client may ask for, so clients cannot make the edge answer PINGREQ every second.
   * 5.0 clients asking less (0 included) are told Server Keep Alive = this; 3.1.1 clients are refused
   * (CONNACK 2), as for maxKeepAliveSeconds. 0: no minimum.
   */
  minKeepAliveSeconds: number;
  /**
   * Outbound QoS 1/2 messages awaiting acknowledgement per session, and inbound QoS 2 messages awaiting
   * PUBREL (5.0: advertised as Receive Maximum).
   */
  maxInflight: number;
  /** QoS 1/2 messages held per session while offline or while the inflight window is full; more are dropped. */
  maxQueuedMessages: number;
  /** Cap on a session's expiry interval (5.0 Session Expiry Interval, and 3.1.1 clean session = 0 sessions). */
  maxSessionExpirySeconds: number;
  /** Longest client identifier accepted, in UTF-16 code units (5.0: 0x85, 3.1.1: CONNACK 2). Checked before authentication. */
  maxClientIdLength: number;
  /** Longest CONNECT username, in UTF-16 code units (5.0: 0x86, 3.1.1: CONNACK 4). Checked before authentication. */
  maxUsernameLength: number;
  /**
   * Longest CONNECT password (or 5.0 Authentication Data), in bytes (5.0: 0x86, 3.1.1: CONNACK 4).
   * Checked before authentication, so an oversized token never reaches the verifier.
   */
  maxPasswordLength: number;
  /**
   * Longest topic name or filter, in UTF-16 code units: PUBLISH topics, will topics, SUBSCRIBE filters.
   * Beyond it a PUBLISH closes the connection (5.0: DISCONNECT 0x90), a will refuses the CONNECT
   * (5.0: CONNACK 0x90, 3.1.1: closed), a filter gets SUBACK 0x8F (3.1.1: 0x80).
   */
  maxTopicLength: number;
  /** Most topic levels (`/`-separated) in a topic name or filter; treated like maxTopicLength. */
  maxTopicLevels: number;
  /**
   * Open sockets per remote address (concurrent, CONNECT pending included). A CONNECT from an address at
   * the cap is refused before authentication (5.0: CONNACK 0x97 quota exceeded, 3.1.1: 3 server unavailable).
   * Raise it behind a load balancer or NAT.
   */
  maxConnectionsPerIp: number;
  /**
   * CONNECTs per second one remote address may make (token bucket with `connectBurstPerIp`), checked at
   * CONNECT before any authentication work (5.0: CONNACK 0x9F connection rate exceeded, 3.1.1: 3). 0: no limit.
   * Defaults 100/s with a burst of 1000: a burst the size of maxConnectionsPerIp lets a whole fleet behind
   * one NAT address reconnect at once after an edge restart, and 100/s refills it in 10 s, far above the
   * churn of such a fleet in normal operation (a reconnect per device per minutes), while one address cannot
   * keep the authenticators busy. Raise it (and connectBurstPerIp) behind a load balancer or NAT.
   */
  connectRatePerIp: number;
  /** Bucket size of connectRatePerIp: CONNECTs an address may make at once after being quiet. */
  connectBurstPerIp: number;
  /**
   * CONNECTs per second of one identity (the authenticated owner: kind, org, user or service), checked right
   * after authentication succeeds (5.0: CONNACK 0x9F, 3.1.1: 3), so a stranger sending someone's username
   * with bad passwords uses no tokens of theirs. Stops a leaked credential or two clients with one id taking
   * each other over in a loop. 0: no limit. Defaults 20/s with a burst of 200: a service's pool of workers
   * sharing one API key can all reconnect at once, and no single user reconnects 20 times a second.
   */
  connectRatePerIdentity: number;
  /** Bucket size of connectRatePerIdentity. */
  connectBurstPerIdentity: number;
  /** Subscriptions one session may hold (SUBACK 0x80 / 5.0 0x97 beyond). */
  maxSubscriptionsPerSession: number;
  /**
   * 5.0 Topic Alias Maximum advertised in CONNACK: client→server aliases 1…this per connection
   * (§3.2.2.3.8); 0 accepts none. Also caps the aliases the edge sends a client (at most min(this, the
   * client's Topic Alias Maximum)); 0 sends none.
   */
  maxTopicAliases: number;
  /** Retained messages one org may hold; new retained topics beyond are not stored. */
  maxRetainedPerOrg: number;
  /**
   * Bytes a connection may have waiting in its socket before QoS 0 messages to it are dropped. A
   * connection that stays above it for slowConsumerGraceMs is disconnected (slow consumer).
   */
  maxWriteBufferBytes: number;
  /**
   * How long a connection may stay above maxWriteBufferBytes before it is disconnected (5.0: DISCONNECT 0x97
   * quota exceeded), checked by the shared sweep: a consumer that is not keeping up for this long is losing
   * QoS 0 messages anyway and only holds memory.
   */
  slowConsumerGraceMs: number;
  /**
   * Hard cap on the bytes waiting for one connection: above it the sweep disconnects at once (5.0: 0x97).
   * At least maxWriteBufferBytes. The transports destroy a socket beyond twice this between two sweeps.
   */
  slowConsumerMaxBytes: number;
  /**
   * Largest CONNECT accepted (default 64 KiB, as RabbitMQ), far below maxPacketSize: the bytes of a
   * client nobody has authenticated yet are cheap to send and expensive to hold (5.0: CONNACK 0x95).
   */
  maxConnectPacketSize: number;
  /**
   * Bytes held for connections of one remote address that have not authenticated yet (partial CONNECTs,
   * packets queued behind an authentication); the connection that goes beyond is closed.
   */
  maxUnauthenticatedBytesPerIp: number;
  /** The same over all remote addresses of the edge process. */
  maxUnauthenticatedBytes: number;
  /** Bytes of packets buffered while an asynchronous authentication is pending; more closes the socket. */
  maxPendingAuthBytes: number;
  /** Resolution of the shared timer sweep (keepalive, connect timeout, credential expiry, session expiry). */
  sweepIntervalMs: number;
  /** How long a revoked credential id is remembered, to refuse a CONNECT whose authentication raced the revocation. */
  revokeMemoryMs: number;
  /** After the edge sends its last packet and ends a socket, how long before it is destroyed if the peer lingers. */
  closeGraceMs: number;
}

/** The defaults, for the edge (resolveLimits) and for config (SIGNET_MQTT_* fallbacks): written once. */
export const DEFAULT_EDGE_LIMITS: Readonly<EdgeLimits> = Object.freeze({
  maxPacketSize: 1024 * 1024,
  connectTimeoutMs: 10_000,
  maxKeepAliveSeconds: 1200,
  minKeepAliveSeconds: 0,
  maxInflight: 64,
  maxQueuedMessages: 1000,
  maxSessionExpirySeconds: 24 * 3600,
  maxClientIdLength: 256,
  maxUsernameLength: 256,
  maxPasswordLength: 8192,
  maxTopicLength: 1024,
  maxTopicLevels: 64,
  maxConnectionsPerIp: 1000,
  connectRatePerIp: 100,
  connectBurstPerIp: 1000,
  connectRatePerIdentity: 20,
  connectBurstPerIdentity: 200,
  maxSubscriptionsPerSession: 1000,
  maxTopicAliases: 10,
  maxRetainedPerOrg: 100_000,
  maxWriteBufferBytes: 4 * 1024 * 1024,
  slowConsumerGraceMs: 10_000,
  slowConsumerMaxBytes: 16 * 1024 * 1024,
  maxConnectPacketSize: 64 * 1024,
  maxUnauthenticatedBytesPerIp: 1024 * 1024,
  maxUnauthenticatedBytes: 64 * 1024 * 1024,
  maxPendingAuthBytes: 256 * 1024,
  sweepIntervalMs: 250,
  revokeMemoryMs: 60_000,
  closeGraceMs: 5_000,
});
