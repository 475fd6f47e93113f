import { defineEdgeSuite } from './testing/edge-suite';

describe('MqttEdge over TCP', () => {
  defineEdgeSuite('tcp');
});
