// One sample of every packet type, for round trips and the interoperability checks (engine-neutral).
import type { Packet, Version } from '../../src/mqtt/codec.js';

const b = (text: string) => new TextEncoder().encode(text);

export function samplePackets(version: Version): Packet[] {
  const v5 = version === 5;
  const props = <T extends object>(p: T): T | undefined => (v5 ? p : undefined);
  const withProps = <T extends object>(packet: T, p: object): T => (v5 ? { ...packet, properties: p } : packet);
  return [
    withProps({ type: 'connect', protocolVersion: version, clientId: 'x0-alpha', clean: false, keepalive: 30, username: 'u', password: b('p'),
      will: withProps({ topic: 'x0/m/alpha/status', payload: b('offline'), qos: 1 as const, retain: true }, { willDelayInterval: 5, contentType: 'application/cose' }) },
      { sessionExpiryInterval: 86400, receiveMaximum: 32, maximumPacketSize: 262144, userProperties: [['a', '1'], ['a', '2']] }) as Packet,
    withProps({ type: 'connack', sessionPresent: true, reasonCode: 0 }, { receiveMaximum: 10, maximumQoS: 1, retainAvailable: 1, serverKeepAlive: 20, assignedClientIdentifier: 'id' }) as Packet,
    withProps({ type: 'publish', topic: 'x0/m/alpha/telemetry', payload: Uint8Array.from([0xd2, 0x84, 0, 255]), qos: 1 as const, retain: false, dup: true, messageId: 513 }, { payloadFormatIndicator: 0, messageExpiryInterval: 60, correlationData: b('c'), subscriptionIdentifier: [7] }) as Packet,
    { type: 'publish', topic: 'a/b', payload: new Uint8Array(0), qos: 0, retain: true, dup: false },
    { type: 'puback', messageId: 513, ...(v5 ? { reasonCode: 0x10, properties: { reasonString: 'no subscribers' } } : {}) } as Packet,
    { type: 'pubrec', messageId: 2 }, { type: 'pubrel', messageId: 3 }, { type: 'pubcomp', messageId: 4 },
    withProps({ type: 'subscribe', messageId: 7, subscriptions: [{ topic: 'x0/m/alpha/cmd/+', qos: 1 as const, ...(v5 ? { nl: true, rap: false, rh: 2 } : {}) }, { topic: 'x0/#', qos: 0 as const, ...(v5 ? { nl: false, rap: true, rh: 0 } : {}) }] }, { subscriptionIdentifier: [3] }) as Packet,
    withProps({ type: 'suback', messageId: 7, granted: [1, 0x80] }, { reasonString: 'one refused' }) as Packet,
    withProps({ type: 'unsubscribe', messageId: 8, unsubscriptions: ['x0/#', 'a/+'] }, { userProperties: [['k', 'v']] }) as Packet,
    { type: 'unsuback', messageId: 8, ...(v5 ? { granted: [0, 0x11] } : {}) } as Packet,
    { type: 'pingreq' }, { type: 'pingresp' },
    { type: 'disconnect', ...(v5 ? { reasonCode: 0x8d, properties: props({ reasonString: 'keep alive timeout' }) } : {}) } as Packet,
  ];
}
