import { BASE_PORT_OFFSETS, DEFAULT_PORTS, loadConfig } from './config';

describe('listener ports', () => {
  it('default to the well-known ports', () => {
    expect(loadConfig({}).ports).toEqual(DEFAULT_PORTS);
  });

  it('SIGNET_BASE_PORT moves every listener: HTTP = base, then MQTT, WS, MQTTS, WSS, gRPC', () => {
    const config = loadConfig({ SIGNET_BASE_PORT: '9000' });
    expect(config.ports).toEqual({ http: 9000, mqtt: 9001, ws: 9002, mqtts: 9003, wss: 9004, grpc: 9005 });
    // A standalone edge started with the same base finds the services' gRPC.
    expect(config.edge.tokenServiceGrpc).toBe('127.0.0.1:9005');
    expect(Object.keys(BASE_PORT_OFFSETS).sort()).toEqual(Object.keys(DEFAULT_PORTS).sort());
  });

  it("a port's own variable wins over the base", () => {
    expect(loadConfig({ SIGNET_BASE_PORT: '9000', SIGNET_MQTT_PORT: '1884' }).ports).toMatchObject({ http: 9000, mqtt: 1884, ws: 9002 });
  });

  it('base 0 puts every listener on a free port', () => {
    expect(Object.values(loadConfig({ SIGNET_BASE_PORT: '0' }).ports)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('names SIGNET_BASE_PORT when the last port would not fit', () => {
    expect(() => loadConfig({ SIGNET_BASE_PORT: '65531' })).toThrow(/SIGNET_BASE_PORT/);
    expect(() => loadConfig({ SIGNET_BASE_PORT: 'nine' })).toThrow(/SIGNET_BASE_PORT: expected an integer/);
  });
});
