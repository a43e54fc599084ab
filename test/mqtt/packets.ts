// One sample of every packet type, for round trips and the interoperability checks (engine-neutral).
import {
  CONNACK,
  CONNECT,
  DISCONNECT,
  PINGREQ,
  PINGRESP,
  PUBACK,
  PUBCOMP,
  PUBLISH,
  PUBREC,
  PUBREL,
  SUBACK,
  SUBSCRIBE,
  UNSUBACK,
  UNSUBSCRIBE,
  type Packet,
  type Properties,
  type Version,
} from '../../src/mqtt/codec.js';
import { propertyIds } from '../../src/mqtt/codec-broker.js';

const b = (text: string) => new TextEncoder().encode(text);

/** v5 properties written by name (as the specification and mqtt-packet name them), keyed by id as the codec keeps them. */
export function props(named: Record<string, unknown>): Properties {
  return Object.fromEntries(
    Object.entries(named).map(([name, value]) => {
      const id = propertyIds[name];
      if (id === undefined) throw new Error(`no v5 property '${name}'`);
      return [id, value];
    }),
  ) as Properties;
}

export function samplePackets(version: Version): Packet[] {
  const v5 = version === 5;
  const withProps = <T extends object>(packet: T, p: Record<string, unknown>): T =>
    v5 ? { ...packet, properties: props(p) } : packet;
  return [
    withProps(
      {
        type: CONNECT,
        protocolVersion: version,
        clientId: 'x0-alpha',
        clean: false,
        keepalive: 30,
        username: 'u',
        password: b('p'),
        will: withProps(
          { topic: 'x0/m/alpha/status', payload: b('offline'), qos: 1 as const, retain: true },
          { willDelayInterval: 5, contentType: 'application/cose' },
        ),
      },
      {
        sessionExpiryInterval: 86400,
        receiveMaximum: 32,
        maximumPacketSize: 262144,
        userProperties: [
          ['a', '1'],
          ['a', '2'],
        ],
      },
    ) as Packet,
    withProps(
      { type: CONNACK, sessionPresent: true, reasonCode: 0 },
      { receiveMaximum: 10, maximumQoS: 1, retainAvailable: 1, serverKeepAlive: 20, assignedClientIdentifier: 'id' },
    ) as Packet,
    withProps(
      {
        type: PUBLISH,
        topic: 'x0/m/alpha/telemetry',
        payload: Uint8Array.from([0xd2, 0x84, 0, 255]),
        qos: 1 as const,
        retain: false,
        dup: true,
        messageId: 513,
      },
      { payloadFormatIndicator: 0, messageExpiryInterval: 60, correlationData: b('c'), subscriptionIdentifier: [7] },
    ) as Packet,
    { type: PUBLISH, topic: 'a/b', payload: new Uint8Array(0), qos: 0, retain: true, dup: false },
    {
      type: PUBACK,
      messageId: 513,
      ...(v5 ? { reasonCode: 0x10, properties: props({ reasonString: 'no subscribers' }) } : {}),
    } as Packet,
    { type: PUBREC, messageId: 2 },
    { type: PUBREL, messageId: 3 },
    { type: PUBCOMP, messageId: 4 },
    withProps(
      {
        type: SUBSCRIBE,
        messageId: 7,
        subscriptions: [
          { topic: 'x0/m/alpha/cmd/+', qos: 1 as const, ...(v5 ? { nl: true, rap: false, rh: 2 } : {}) },
          { topic: 'x0/#', qos: 0 as const, ...(v5 ? { nl: false, rap: true, rh: 0 } : {}) },
        ],
      },
      { subscriptionIdentifier: [3] },
    ) as Packet,
    withProps({ type: SUBACK, messageId: 7, granted: [1, 0x80] }, { reasonString: 'one refused' }) as Packet,
    withProps(
      { type: UNSUBSCRIBE, messageId: 8, unsubscriptions: ['x0/#', 'a/+'] },
      { userProperties: [['k', 'v']] },
    ) as Packet,
    { type: UNSUBACK, messageId: 8, ...(v5 ? { granted: [0, 0x11] } : {}) } as Packet,
    { type: PINGREQ },
    { type: PINGRESP },
    {
      type: DISCONNECT,
      ...(v5 ? { reasonCode: 0x8d, properties: props({ reasonString: 'keep alive timeout' }) } : {}),
    } as Packet,
  ];
}
