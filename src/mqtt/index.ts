// The MQTT client's public surface, and the entry whose minified size the bench reports and
// test/mqtt/size.node.test.ts holds to its budget (15 KB): everything a router runs to publish, nothing else.
export {
  createMqttClient,
  type ClientEvent,
  type ClientOptions,
  type MqttClient,
  type PublishReason,
} from './client.js';
export {
  createMqttConnection,
  type ConnectionOptions,
  type MessageHandler,
  type MqttConnection,
} from './connection.js';
export type { Packet, Properties, QoS, Version, Will } from './codec.js';
export type { Message } from './queue.js';
