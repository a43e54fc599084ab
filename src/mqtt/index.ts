// The MQTT client's public surface, and the entry whose minified size the bench reports (budget 15 KB).
export { MqttClient, type ClientEvent, type ClientOptions, type PublishReason } from './client.js';
export { MqttConnection, type ConnectionOptions, type MessageHandler } from './connection.js';
export { decodePacket, encodePacket, isValidFilter, isValidTopic, PacketReader, type Packet, type Properties, type QoS, type Version, type Will } from './codec.js';
export { OfflineQueue, PersistPolicy, decodeQueue, encodeQueue, type Message } from './queue.js';
