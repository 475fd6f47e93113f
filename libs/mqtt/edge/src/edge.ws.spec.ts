import { defineEdgeSuite } from './testing/edge-suite';

describe('MqttEdge over WebSocket', () => {
  defineEdgeSuite('ws');
});
