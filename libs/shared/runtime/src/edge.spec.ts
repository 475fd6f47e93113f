import { loadConfig } from '@signet/config';
import { DEFAULT_LIMITS } from '@signet/mqtt-edge';

describe('edge limits from the environment', () => {
  it('every SIGNET_MQTT_* limit names an EdgeLimits field, and without variables the edge keeps its own defaults', () => {
    // startEdge hands config.edge.limits to the edge as it is: a misnamed field would be silently ignored.
    const limits = loadConfig({}).edge.limits;
    const expected = Object.fromEntries(Object.keys(limits).map((name) => [name, DEFAULT_LIMITS[name as keyof typeof DEFAULT_LIMITS]]));
    expect(limits).toEqual(expected);
  });
});
